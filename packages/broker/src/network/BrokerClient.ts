import { connect, type Socket } from 'node:net';
import {
  type ApiMessageTypes,
  decodeResponseFrame,
  encodeRequestFrame,
  FrameDecoder,
  ProtocolDecodeError,
} from '@fjord/protocol';

type Api = keyof ApiMessageTypes;

export interface BrokerAddress {
  readonly host: string;
  readonly port: number;
}

export interface BrokerClientOptions {
  readonly clientId: string;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Largest response frame accepted (replica fetch responses are the big ones). */
  readonly maxResponseBytes: number;
}

/**
 * A request that did not get an answer: the connection failed, closed, or timed out. `refused`
 * is set when nothing listens at the address any more, which means the peer process is gone
 * (the controller uses this to fence a crashed broker without waiting out its session).
 */
export class BrokerRequestError extends Error {
  constructor(
    message: string,
    readonly refused = false,
  ) {
    super(message);
    this.name = 'BrokerRequestError';
  }
}

interface InFlight {
  readonly apiKey: Api;
  readonly version: number;
  readonly correlationId: number;
  readonly resolve: (body: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * One pipelined Kafka-protocol connection to another broker, used for replica fetches and
 * requests to the controller. Requests are written as they come; responses arrive in order
 * and are matched by correlation id. A failed or timed-out request closes the connection
 * (a late response would desynchronise the stream) and fails every request in flight; the
 * next send reconnects, to wherever `address()` says the peer is now.
 */
export class BrokerClient {
  private socket?: Socket;
  private connecting?: Promise<Socket>;
  private readonly inFlight: InFlight[] = [];
  private nextCorrelationId = 1;
  private closed = false;

  constructor(
    private readonly address: () => BrokerAddress | undefined,
    private readonly options: BrokerClientOptions,
  ) {}

  async send<K extends Api>(
    apiKey: K,
    version: number,
    body: ApiMessageTypes[K]['requestInput'],
    timeoutMs = this.options.requestTimeoutMs,
  ): Promise<ApiMessageTypes[K]['response']> {
    if (this.closed) throw new BrokerRequestError('client closed');
    const socket = await this.connection();
    const correlationId = this.nextCorrelationId++ & 0x7fffffff;
    const frame = encodeRequestFrame(apiKey, version, correlationId, this.options.clientId, body);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          socket,
          new BrokerRequestError(`request ${apiKey} v${version} timed out after ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.inFlight.push({
        apiKey,
        version,
        correlationId,
        resolve: resolve as (body: unknown) => void,
        reject,
        timer,
      });
      socket.write(frame);
    });
  }

  /** Drops the connection (requests in flight fail); the next send reconnects. */
  disconnect(reason = 'disconnected'): void {
    if (this.socket) this.fail(this.socket, new BrokerRequestError(reason));
  }

  close(): void {
    this.closed = true;
    this.disconnect('client closed');
  }

  private connection(): Promise<Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private open(): Promise<Socket> {
    const target = this.address();
    if (!target) return Promise.reject(new BrokerRequestError('no address known for the peer'));
    return new Promise((resolve, reject) => {
      const socket = connect({ host: target.host, port: target.port });
      socket.setNoDelay(true);
      const frames = new FrameDecoder(this.options.maxResponseBytes);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new BrokerRequestError(`connect to ${target.host}:${target.port} timed out`));
      }, this.options.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        if (this.closed) {
          socket.destroy();
          reject(new BrokerRequestError('client closed'));
          return;
        }
        this.socket = socket;
        resolve(socket);
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const e = new BrokerRequestError(
          `connection to ${target.host}:${target.port} failed: ${err.message}`,
          err.code === 'ECONNREFUSED',
        );
        if (this.socket === socket) this.fail(socket, e);
        else reject(e);
      });
      socket.on('close', () => {
        if (this.socket === socket) this.fail(socket, new BrokerRequestError('connection closed by peer'));
      });
      socket.on('data', (chunk: Buffer) => {
        const error = frames.push(chunk, (frame) => this.onFrame(socket, frame));
        if (error) this.fail(socket, new BrokerRequestError(`response of ${error.size} bytes refused`));
      });
    });
  }

  private onFrame(socket: Socket, frame: Buffer): void {
    if (this.socket !== socket) return;
    const next = this.inFlight.shift();
    if (!next) {
      this.fail(socket, new BrokerRequestError('response without a request'));
      return;
    }
    clearTimeout(next.timer);
    try {
      const { correlationId, body } = decodeResponseFrame(next.apiKey, next.version, frame);
      if (correlationId !== next.correlationId)
        throw new ProtocolDecodeError(`correlation id ${correlationId}, expected ${next.correlationId}`);
      next.resolve(body);
    } catch (e) {
      next.reject(e as Error);
      this.fail(socket, new BrokerRequestError(`unreadable response: ${(e as Error).message}`));
    }
  }

  private fail(socket: Socket, error: BrokerRequestError): void {
    socket.destroy();
    // Requests in flight belong to the current socket; a stale one's failure is already settled.
    if (this.socket !== socket) return;
    this.socket = undefined;
    for (const r of this.inFlight.splice(0)) {
      clearTimeout(r.timer);
      r.reject(error);
    }
  }
}
