import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ListenerConfig } from '../config/BrokerConfig.js';
import { type ConnectionLimits, KafkaConnection } from './KafkaConnection.js';
import type { FrameHandler } from './RequestContext.js';

export interface BoundListener {
  readonly listener: ListenerConfig;
  /** The port actually bound (differs from the configured one when that was 0). */
  readonly port: number;
}

/** Accepts connections on every configured listener and hands them to KafkaConnections. */
export class SocketServer {
  private readonly servers: Server[] = [];
  private readonly connections = new Set<KafkaConnection>();
  private nextConnectionId = 0;

  constructor(
    private readonly handler: FrameHandler,
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
  ) {}

  async listen(listeners: readonly ListenerConfig[]): Promise<BoundListener[]> {
    const bound: BoundListener[] = [];
    for (const listener of listeners) {
      const server = createServer((socket) => this.accept(listener, socket));
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
      this.log.info({ listener: listener.name, host: listener.host, port }, 'listening');
    }
    return bound;
  }

  private accept(listener: ListenerConfig, socket: Socket): void {
    const id = `${listener.name}-${this.nextConnectionId++}`;
    const connection = new KafkaConnection(
      socket,
      {
        connectionId: id,
        listenerName: listener.name,
        securityProtocol: listener.securityProtocol,
        clientAddress: socket.remoteAddress ?? '',
        clientPort: socket.remotePort ?? 0,
        principal: 'User:ANONYMOUS',
        sasl: listener.securityProtocol.startsWith('SASL_') ? { stage: 'handshake' } : undefined,
      },
      this.handler,
      this.limits,
      this.log,
    );
    this.connections.add(connection);
    socket.once('close', () => this.connections.delete(connection));
  }

  /** Stops accepting, then closes open connections. */
  async close(): Promise<void> {
    // server.close() waits for open connections, so close those once accepting has stopped.
    const closed = Promise.all(
      this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
    for (const c of this.connections) c.close('shutdown');
    await closed;
  }
}
