import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import type { Logger } from 'pino';
import type { ListenerConfig } from '../config/BrokerConfig.js';
import { rfc2253 } from '../security/DistinguishedName.js';
import type { ConnectionQuotas } from './ConnectionQuotas.js';
import { type ConnectionLimits, KafkaConnection, type RequestAdmission } from './KafkaConnection.js';
import type { FrameHandler } from './RequestContext.js';
import { RequestMemoryPool } from './RequestMemoryPool.js';
import { RequestQueue } from './RequestQueue.js';
import type { ListenerTls } from './TlsContext.js';

export interface BoundListener {
  readonly listener: ListenerConfig;
  /** The port actually bound (differs from the configured one when that was 0). */
  readonly port: number;
}

export interface SocketServerOptions {
  /** TLS settings of every SSL / SASL_SSL listener, by listener name. */
  readonly tls?: ReadonlyMap<string, ListenerTls>;
  /** max.connections / max.connections.per.ip accounting. */
  readonly connectionQuotas?: ConnectionQuotas;
  /** TLS handshakes taking longer are abandoned. */
  readonly tlsHandshakeTimeoutMs?: number;
  /** Which client addresses each listener accepts (`fjord.allowed.cidrs`); everyone when absent. */
  readonly allowlists?: { allows(listener: string, address: string): boolean };
  /** Broker-wide request bounds (queued.max.request.bytes, queued.max.requests); Kafka's defaults when absent. */
  readonly admission?: RequestAdmission;
}

/** Kafka's defaults: queued.max.request.bytes -1 (unbounded), queued.max.requests 500. */
const DEFAULT_QUEUED_MAX_REQUESTS = 500;

const ANONYMOUS = 'User:ANONYMOUS';

/** The client's IP as Kafka reports it: IPv4 clients of a dual-stack socket without the ::ffff: prefix. */
export function clientIp(socket: Socket): string {
  const a = socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/**
 * Accepts connections on every configured listener and hands them to KafkaConnections. SSL and
 * SASL_SSL listeners terminate TLS first (a client certificate, when asked for and given, names
 * an SSL listener's principal); connection limits are applied as the TCP connection arrives,
 * before any TLS or Kafka work is done for it.
 */
export class SocketServer {
  private readonly servers: Server[] = [];
  /** Each TLS listener's current settings (a reload swaps them) and, once listening, its server. */
  private readonly tlsListeners = new Map<string, { tls: ListenerTls; server?: TlsServer }>();
  private readonly connections = new Set<KafkaConnection>();
  private readonly listenerNames: string[] = [];
  /** Accepted TCP connections, with their listener, until they close (including those still in TLS). */
  private readonly rawSockets = new Map<Socket, string>();
  private readonly refusedByAllowlist = new Map<string, number>();
  private nextConnectionId = 0;
  readonly admission: RequestAdmission;

  constructor(
    private readonly handler: FrameHandler,
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
    private readonly options: SocketServerOptions = {},
  ) {
    for (const [name, tls] of options.tls ?? []) this.tlsListeners.set(name, { tls });
    this.admission = options.admission ?? {
      memory: new RequestMemoryPool(-1),
      queue: new RequestQueue(DEFAULT_QUEUED_MAX_REQUESTS),
    };
  }

  async listen(listeners: readonly ListenerConfig[]): Promise<BoundListener[]> {
    const bound: BoundListener[] = [];
    for (const listener of listeners) {
      this.listenerNames.push(listener.name);
      const server = this.serverFor(listener);
      server.on('error', (err) => this.log.error({ err, listener: listener.name }, 'listener error'));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: listener.host || undefined, port: listener.port, backlog: 1024 }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.servers.push(server);
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : listener.port;
      bound.push({ listener, port });
      this.log.info(
        { listener: listener.name, host: listener.host, port, securityProtocol: listener.securityProtocol },
        'listening',
      );
    }
    return bound;
  }

  private serverFor(listener: ListenerConfig): Server {
    const usesTls = listener.securityProtocol === 'SSL' || listener.securityProtocol === 'SASL_SSL';
    let server: Server;
    if (usesTls) {
      const entry = this.tlsListeners.get(listener.name);
      if (!entry)
        throw new Error(
          `listener ${listener.name} uses ${listener.securityProtocol} but has no TLS settings`,
        );
      const tlsServer = createTlsServer(
        { ...entry.tls.options, handshakeTimeout: this.options.tlsHandshakeTimeoutMs ?? 10_000 },
        // The listener's settings as they are when the handshake completes (a reload swaps them).
        (socket) => this.acceptTls(listener, entry.tls, socket),
      );
      entry.server = tlsServer;
      tlsServer.on('tlsClientError', (err, socket) => {
        // Gone before the handshake: refused at accept (logged there already) or the client hung up.
        const gone = socket.remoteAddress === undefined;
        this.log[gone ? 'debug' : 'warn'](
          {
            listener: listener.name,
            client: clientIp(socket),
            reason: err.message,
            code: (err as NodeJS.ErrnoException).code,
          },
          'TLS handshake failed, connection closed',
        );
      });
      server = tlsServer;
    } else server = createServer((socket) => this.accept(listener, socket, ANONYMOUS));
    // Runs before TLS starts, so a refused connection costs no handshake.
    server.prependListener('connection', (raw: Socket) => this.admit(listener, raw));
    return server;
  }

  private admit(listener: ListenerConfig, raw: Socket): void {
    // Errors before the connection is handed over (TLS clients hanging up) must not go unhandled.
    raw.on('error', () => {});
    const ip = clientIp(raw);
    if (this.options.allowlists && !this.options.allowlists.allows(listener.name, ip)) {
      this.refusedByAllowlist.set(listener.name, (this.refusedByAllowlist.get(listener.name) ?? 0) + 1);
      this.log.warn(
        { listener: listener.name, client: ip },
        'connection refused: address not in fjord.allowed.cidrs',
      );
      raw.destroy();
      return;
    }
    this.rawSockets.set(raw, listener.name);
    raw.once('close', () => this.rawSockets.delete(raw));
    const quotas = this.options.connectionQuotas;
    if (!quotas) return;
    const admission = quotas.admit(listener.name, ip);
    if (!admission.ok) {
      this.log.warn({ listener: listener.name, client: ip, reason: admission.reason }, 'connection refused');
      raw.destroy();
      return;
    }
    raw.once('close', () => quotas.release(listener.name, ip));
  }

  private acceptTls(listener: ListenerConfig, tls: ListenerTls, socket: TLSSocket): void {
    let principal = ANONYMOUS;
    if (listener.securityProtocol === 'SSL' && tls.clientAuth !== 'none') {
      const cert = socket.getPeerX509Certificate();
      if (cert) {
        const refuse = (reason: string) => {
          this.log.warn(
            { listener: listener.name, client: clientIp(socket), reason },
            'client certificate refused',
          );
          socket.destroy();
        };
        if (!socket.authorized) {
          refuse(`certificate not trusted: ${String(socket.authorizationError)}`);
          return;
        }
        try {
          principal = `User:${tls.principalMapper.name(rfc2253(cert.subject))}`;
        } catch (e) {
          refuse((e as Error).message);
          return;
        }
      }
    }
    this.accept(listener, socket, principal);
  }

  private accept(listener: ListenerConfig, socket: Socket, principal: string): void {
    const id = `${listener.name}-${this.nextConnectionId++}`;
    const connection = new KafkaConnection(
      socket,
      {
        connectionId: id,
        listenerName: listener.name,
        securityProtocol: listener.securityProtocol,
        clientAddress: clientIp(socket),
        clientPort: socket.remotePort ?? 0,
        principal,
        sasl: listener.securityProtocol.startsWith('SASL_') ? { stage: 'handshake' } : undefined,
      },
      this.handler,
      this.limits,
      this.log,
      this.admission,
    );
    this.connections.add(connection);
    socket.once('close', () => this.connections.delete(connection));
  }

  /** Open connections per listener name (every configured listener present, even at 0). */
  connectionCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const l of this.listenerNames) counts.set(l, 0);
    for (const c of this.connections)
      counts.set(c.info.listenerName, (counts.get(c.info.listenerName) ?? 0) + 1);
    return counts;
  }

  /**
   * New TLS settings for a listener (a reloaded keystore or truststore): connections accepted from
   * now on handshake with them; open connections keep the session they have.
   */
  setListenerTls(listener: string, tls: ListenerTls): void {
    const entry = this.tlsListeners.get(listener);
    if (!entry) throw new Error(`listener ${listener} does not use TLS`);
    entry.server?.setSecureContext(tls.options);
    entry.tls = tls;
  }

  /** Connections refused because of `fjord.allowed.cidrs`, per listener (every listener present). */
  refusedByAllowlistCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const l of this.listenerNames) counts.set(l, this.refusedByAllowlist.get(l) ?? 0);
    return counts;
  }

  /**
   * Closes the open connections of `listeners` (those still in their TLS handshake too) whose
   * client address the allowlist no longer accepts; returns how many.
   */
  enforceAllowlists(listeners: readonly string[]): number {
    const allowlists = this.options.allowlists;
    if (!allowlists) return 0;
    const refused = (listener: string, ip: string) =>
      listeners.includes(listener) && !allowlists.allows(listener, ip);
    let closed = 0;
    for (const c of this.connections) {
      if (!refused(c.info.listenerName, c.info.clientAddress)) continue;
      this.log.warn(
        { listener: c.info.listenerName, client: c.info.clientAddress, conn: c.info.connectionId },
        'connection closed: address no longer in fjord.allowed.cidrs',
      );
      c.close('address no longer allowed');
      closed++;
    }
    // Connections still in their TLS handshake have no KafkaConnection yet.
    for (const [raw, listener] of this.rawSockets) if (refused(listener, clientIp(raw))) raw.destroy();
    return closed;
  }

  /** Stops accepting, then closes open connections. */
  async close(): Promise<void> {
    // server.close() waits for open connections, so close those once accepting has stopped.
    const closed = Promise.all(
      this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
    for (const c of this.connections) c.close('shutdown');
    // Connections still in their TLS handshake are not KafkaConnections yet.
    for (const s of this.rawSockets.keys()) s.destroy();
    await closed;
  }
}
