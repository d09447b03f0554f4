import { ConfigError, DYNAMIC_SSL_SUFFIXES, listenerConfigDef, type MetadataImage } from '@fjord/metadata';
import { ErrorCode } from '@fjord/protocol';
import type { Logger } from 'pino';
import { type ListenerTls, listenerTls } from './TlsContext.js';

const RESOURCE_BROKER = 4;
const DELETE = 1;

/** A resource of an (Incremental)AlterConfigs request, as both versions decode. */
export interface AlterConfigsResource {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly configs: readonly {
    readonly name: string;
    readonly value: string | null;
    readonly configOperation?: number;
  }[];
}

export interface AlterConfigsRefusal {
  readonly throttleTimeMs: number;
  readonly responses: {
    resourceType: number;
    resourceName: string;
    errorCode: number;
    errorMessage: string | null;
  }[];
}

/**
 * Reloads TLS listeners' keystores and truststores without a restart, as Kafka's
 * DynamicBrokerConfig reconfigures SSL listeners: `listener.name.<l>.ssl.keystore.location` (and
 * `.ssl.keystore.type`, `.ssl.keystore.password`, `.ssl.key.password`,
 * `.ssl.truststore.location`) are per-broker dynamic configs. The broker a change is addressed to
 * checks it before it goes to the controller (only it can read its files): a file that cannot be
 * used is refused with INVALID_CONFIG naming the key and nothing changes. Once the change is in
 * the log the files are read again and the new context applies to new connections only.
 */
export class ListenerTlsReloader {
  /** The dynamic SSL values each listener's current context was built with. */
  private readonly applied = new Map<string, string>();

  constructor(
    private readonly brokerId: number,
    private readonly tlsListeners: readonly string[],
    private readonly staticValues: ReadonlyMap<string, string>,
    private readonly apply: (listener: string, tls: ListenerTls) => void,
    private readonly log: Logger,
  ) {
    for (const l of tlsListeners) this.applied.set(l, signature(l, new Map()));
  }

  /** The settings a listener's TLS is built from: server.properties, then this broker's dynamic values. */
  private settings(dynamic: ReadonlyMap<string, string>): Map<string, string> {
    const raw = new Map(this.staticValues);
    for (const [k, v] of dynamic) if (listenerConfigDef(k)?.perBrokerOnly) raw.set(k, v);
    return raw;
  }

  /**
   * Checks the listener TLS settings an AlterConfigs (incremental or not) would give this broker;
   * a refusal to answer with when one cannot be used, else undefined (the request goes on).
   */
  precheck(
    image: MetadataImage,
    resources: readonly AlterConfigsResource[],
    incremental: boolean,
  ): AlterConfigsRefusal | undefined {
    const problems = new Map<AlterConfigsResource, { code: number; message: string }>();
    for (const r of resources) {
      if (r.resourceType !== RESOURCE_BROKER || r.resourceName === '') continue;
      const touched = r.configs.filter((c) => listenerConfigDef(c.name)?.perBrokerOnly);
      if (touched.length === 0) continue;
      if (r.resourceName !== String(this.brokerId)) {
        problems.set(r, {
          code: ErrorCode.INVALID_REQUEST,
          message: `Listener TLS files of broker ${r.resourceName} can only be checked by that broker: send the request to it (this is broker ${this.brokerId}).`,
        });
        continue;
      }
      const next = new Map(incremental ? image.configsOf('broker', r.resourceName) : []);
      for (const c of r.configs) {
        if (incremental && c.configOperation === DELETE) next.delete(c.name);
        else if (c.value !== null) next.set(c.name, c.value);
      }
      // Removing a listener's TLS settings needs no file; only listeners given new values are checked.
      const set = touched.filter((c) => !(incremental && c.configOperation === DELETE));
      const listeners = new Set(set.map((c) => listenerConfigDef(c.name)!.listener));
      for (const l of listeners) {
        const listener = this.tlsListeners.find((x) => x.toLowerCase() === l);
        if (!listener) {
          problems.set(r, {
            code: ErrorCode.INVALID_CONFIG,
            message: `Listener ${l.toUpperCase()} of broker ${this.brokerId} does not use TLS.`,
          });
          break;
        }
        try {
          listenerTls(listener, this.settings(next));
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          problems.set(r, { code: ErrorCode.INVALID_CONFIG, message: e.message });
          break;
        }
      }
    }
    if (problems.size === 0) return undefined;
    // The whole request is answered here: a resource refused means none of it is applied.
    return {
      throttleTimeMs: 0,
      responses: resources.map((r) => {
        const p = problems.get(r);
        return {
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          errorCode: p?.code ?? ErrorCode.INVALID_REQUEST,
          errorMessage: p?.message ?? 'Not applied: another resource of this request was refused.',
        };
      }),
    };
  }

  /**
   * Rebuilds the listeners whose dynamic TLS settings changed in the image, or all of this
   * broker's TLS listeners with `force` (an alteration that set the same paths asks for the files
   * to be read again). A context that cannot be built leaves the old one in place (logged).
   */
  update(image: MetadataImage, force = false): void {
    const dynamic = image.configsOf('broker', String(this.brokerId));
    for (const l of this.tlsListeners) {
      const sig = signature(l, dynamic);
      if (!force && this.applied.get(l) === sig) continue;
      this.applied.set(l, sig);
      try {
        this.apply(l, listenerTls(l, this.settings(dynamic)));
        this.log.info({ listener: l }, 'listener TLS keystore/truststore reloaded; new connections use it');
      } catch (e) {
        this.log.error(
          { listener: l, err: (e as Error).message },
          'listener TLS not reloaded; the previous one stays',
        );
      }
    }
  }
}

/** The dynamic SSL values of one listener, as a comparable string. */
function signature(listener: string, dynamic: ReadonlyMap<string, string>): string {
  const prefix = `listener.name.${listener.toLowerCase()}.`;
  return DYNAMIC_SSL_SUFFIXES.map((s) => `${s}=${dynamic.get(prefix + s) ?? ''}`).join('\n');
}
