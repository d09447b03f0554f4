import { ConfigError, parseIpOverrides } from '@fjord/metadata';

export interface ConnectionQuotasConfig {
  /** `max.connections`: across listeners (the inter-broker listener is exempt). */
  readonly maxConnections: number;
  /** `listener.name.<l>.max.connections`. */
  readonly perListener: ReadonlyMap<string, number>;
  /** `max.connections.per.ip`. */
  readonly maxPerIp: number;
  /** `max.connections.per.ip.overrides`: `ip:count,ip:count`. */
  readonly perIpOverrides: ReadonlyMap<string, number>;
  readonly interBrokerListener?: string;
}

export type Admission = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Counts open connections per IP, per listener and in total, as Kafka's ConnectionQuotas, and
 * decides whether a new one may stay. Kafka makes the acceptor wait when `max.connections` is
 * reached; a Node listener cannot pause accepting, so the new connection is closed instead.
 */
export class ConnectionQuotas {
  private readonly byIp = new Map<string, number>();
  private readonly byListener = new Map<string, number>();
  private total = 0;

  constructor(private config: ConnectionQuotasConfig) {}

  /** New limits (dynamic configs) apply to connections accepted from now on; open ones stay. */
  reconfigure(config: ConnectionQuotasConfig): void {
    this.config = config;
  }

  admit(listener: string, ip: string): Admission {
    const perIp = this.config.perIpOverrides.get(ip) ?? this.config.maxPerIp;
    const ipCount = this.byIp.get(ip) ?? 0;
    if (ipCount >= perIp)
      return { ok: false, reason: `Too many connections from ${ip} (maximum = ${perIp})` };
    const listenerMax = this.config.perListener.get(listener);
    const listenerCount = this.byListener.get(listener) ?? 0;
    if (listenerMax !== undefined && listenerCount >= listenerMax)
      return { ok: false, reason: `listener ${listener} has its maximum of ${listenerMax} connections` };
    if (listener !== this.config.interBrokerListener && this.total >= this.config.maxConnections)
      return { ok: false, reason: `the broker has its maximum of ${this.config.maxConnections} connections` };
    this.byIp.set(ip, ipCount + 1);
    this.byListener.set(listener, listenerCount + 1);
    if (listener !== this.config.interBrokerListener) this.total++;
    return { ok: true };
  }

  release(listener: string, ip: string): void {
    const ipCount = (this.byIp.get(ip) ?? 1) - 1;
    if (ipCount <= 0) this.byIp.delete(ip);
    else this.byIp.set(ip, ipCount);
    this.byListener.set(listener, Math.max(0, (this.byListener.get(listener) ?? 1) - 1));
    if (listener !== this.config.interBrokerListener) this.total = Math.max(0, this.total - 1);
  }

  get open(): number {
    let n = 0;
    for (const c of this.byListener.values()) n += c;
    return n;
  }
}

const LIMIT_KEYS = ['max.connections', 'max.connections.per.ip', 'max.connections.per.ip.overrides'] as const;

/**
 * The broker's connection limits: listener-prefixed ones from server.properties, the others
 * from the dynamic per-broker value, else the dynamic cluster default, else server.properties
 * (Kafka's precedence). Dynamic values were validated by the controller.
 */
export function connectionLimits(
  config: {
    readonly values: ReadonlyMap<string, unknown>;
    readonly passthrough: ReadonlyMap<string, string>;
    readonly listeners: readonly { readonly name: string }[];
  },
  dynamic: {
    readonly perBroker: ReadonlyMap<string, string>;
    readonly clusterDefault: ReadonlyMap<string, string>;
  } = {
    perBroker: new Map(),
    clusterDefault: new Map(),
  },
): ConnectionQuotasConfig {
  const perListener = new Map<string, number>();
  for (const l of config.listeners) {
    const key = `listener.name.${l.name.toLowerCase()}.max.connections`;
    const v = config.passthrough.get(key);
    if (v === undefined) continue;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(key, `'${v}' is not a non-negative integer`);
    perListener.set(l.name, n);
  }
  const [maxConnections, maxPerIp, overrides] = LIMIT_KEYS.map(
    (k) => dynamic.perBroker.get(k) ?? dynamic.clusterDefault.get(k) ?? String(config.values.get(k) ?? ''),
  ) as [string, string, string];
  const interBroker = config.values.get('inter.broker.listener.name');
  return {
    maxConnections: Number(maxConnections),
    perListener,
    maxPerIp: Number(maxPerIp),
    perIpOverrides: parseIpOverrides(overrides),
    interBrokerListener: typeof interBroker === 'string' ? interBroker.toUpperCase() : undefined,
  };
}
