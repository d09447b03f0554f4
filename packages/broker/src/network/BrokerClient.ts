import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  ApiKey,
  type ApiMessageTypes,
  decodeResponseFrame,
  ErrorCode,
  encodeRequestFrame,
  FrameDecoder,
  type FrameError,
  ProtocolDecodeError,
} from '@fjord/protocol';
import type { Logger } from 'pino';
import type { InterBrokerSasl, InterBrokerSecurity } from '../security/InterBrokerSecurity.js';
import { ScramClientError, ScramClientExchange } from '../security/ScramClient.js';
import { directReadOptions } from './DirectReads.js';

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
  /** TLS and SASL of the inter-broker listener; plain TCP without authentication when absent. */
  readonly security?: InterBrokerSecurity;
  /** After a failed authentication, connecting again is refused at once for this long (default 1 s). */
  readonly authFailureBackoffMs?: number;
  /** Where authentication failures are reported (they say why a broker cannot join or follow). */
  readonly log?: Logger;
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

/** The peer refused this broker's credentials (or could not prove its own): retried like a lost connection, paced. */
export class BrokerAuthenticationError extends BrokerRequestError {
  constructor(message: string) {
    super(message);
    this.name = 'BrokerAuthenticationError';
  }
}

/** Re-authenticate this long before the peer's session lifetime (KIP-368) runs out. */
const REAUTH_MARGIN_MS = 1000;

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
  /** The current socket is connected and authenticated: requests may use it. */
  private ready = false;
  /** When the peer's SASL session ends (0: never). */
  private sessionExpiresAt = 0;
  private authFailure?: { readonly error: BrokerAuthenticationError; readonly until: number };
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
    return this.request(await this.connection(), apiKey, version, body, timeoutMs);
  }

  private request<K extends Api>(
    socket: Socket,
    apiKey: K,
    version: number,
    body: ApiMessageTypes[K]['requestInput'],
    timeoutMs = this.options.requestTimeoutMs,
  ): Promise<ApiMessageTypes[K]['response']> {
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
    if (this.socket && this.ready && this.sessionExpiresAt !== 0 && Date.now() >= this.sessionExpiresAt)
      this.fail(this.socket, new BrokerRequestError('SASL session expired; authenticating again'));
    if (this.socket && this.ready && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private open(): Promise<Socket> {
    const target = this.address();
    if (!target) return Promise.reject(new BrokerRequestError('no address known for the peer'));
    const failure = this.authFailure;
    if (failure && Date.now() < failure.until) return Promise.reject(failure.error);
    const tlsOptions = this.options.security?.tls;
    return new Promise((resolve, reject) => {
      const frames = new FrameDecoder(this.options.maxResponseBytes);
      const sink = { reserve: () => true, frame: (frame: Buffer) => this.onFrame(socket, frame) };
      const refuse = (error: FrameError | undefined) => {
        if (error) this.fail(socket, new BrokerRequestError(`response of ${error.size} bytes refused`));
      };
      // Plain TCP reads replica fetch responses straight into their buffers (DirectReads).
      const socket = tlsOptions
        ? tlsConnect({
            ...tlsOptions,
            host: target.host,
            port: target.port,
            servername: isIP(target.host) ? undefined : target.host,
          })
        : connect({
            host: target.host,
            port: target.port,
            onread: directReadOptions(frames, (buffer, n) => refuse(frames.pushRead(buffer, n, sink))),
          });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new BrokerRequestError(`connect to ${target.host}:${target.port} timed out`));
      }, this.options.connectTimeoutMs);
      socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        if (this.closed) {
          socket.destroy();
          reject(new BrokerRequestError('client closed'));
          return;
        }
        // Responses route to this socket from now on; requests other than authentication wait for `ready`.
        this.socket = socket;
        this.authenticate(socket, target).then(
          (lifetimeMs) => {
            this.ready = true;
            this.sessionExpiresAt =
              lifetimeMs > 0 ? Date.now() + Math.max(0, lifetimeMs - REAUTH_MARGIN_MS) : 0;
            resolve(socket);
          },
          (e: Error) => {
            const error =
              e instanceof BrokerRequestError ? e : new BrokerRequestError(`authentication: ${e.message}`);
            this.fail(socket, error);
            reject(error);
          },
        );
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
      if (tlsOptions) socket.on('data', (chunk: Buffer) => refuse(frames.push(chunk, sink)));
    });
  }

  /**
   * SaslHandshake v1 and SaslAuthenticate, as Kafka's brokers authenticate to each other: PLAIN's
   * single token, or SCRAM's two rounds with the server's signature checked. Resolves with the
   * session lifetime the peer grants (0: unlimited). A refusal becomes a BrokerAuthenticationError
   * and holds off reconnecting for a while (the peer also delays its answers to failures).
   */
  private async authenticate(socket: Socket, target: BrokerAddress): Promise<number> {
    const sasl = this.options.security?.sasl;
    if (!sasl) return 0;
    const refuse = (reason: string): never => {
      const error = new BrokerAuthenticationError(
        `SASL authentication with ${sasl.mechanism} as ${sasl.username} to broker at ${target.host}:${target.port} failed: ${reason}`,
      );
      this.authFailure = { error, until: Date.now() + (this.options.authFailureBackoffMs ?? 1000) };
      this.options.log?.warn(
        { peer: `${target.host}:${target.port}`, mechanism: sasl.mechanism, user: sasl.username, reason },
        'inter-broker authentication failed',
      );
      throw error;
    };
    const handshake = await this.request(socket, ApiKey.SaslHandshake, 1, { mechanism: sasl.mechanism });
    if (handshake.errorCode !== ErrorCode.NONE)
      refuse(`mechanism not enabled there (it offers ${handshake.mechanisms.join(', ') || 'none'})`);
    const step = async (token: Buffer) => {
      const r = await this.request(socket, ApiKey.SaslAuthenticate, 1, { authBytes: token });
      if (r.errorCode !== ErrorCode.NONE) refuse(r.errorMessage ?? `error ${r.errorCode}`);
      return r;
    };
    let last: Awaited<ReturnType<typeof step>>;
    if (sasl.mechanism === 'PLAIN') last = await step(plainToken(sasl));
    else {
      const exchange = new ScramClientExchange(sasl.mechanism, sasl.username, sasl.password);
      try {
        const serverFirst = await step(exchange.first());
        last = await step(exchange.final(serverFirst.authBytes));
        exchange.verify(last.authBytes);
      } catch (e) {
        if (e instanceof ScramClientError) refuse(e.message);
        throw e;
      }
    }
    this.authFailure = undefined;
    return Number(last.sessionLifetimeMs);
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
    this.ready = false;
    for (const r of this.inFlight.splice(0)) {
      clearTimeout(r.timer);
      r.reject(error);
    }
  }
}

/** PLAIN's one token: authzid (empty), user, password, NUL-separated (RFC 4616). */
function plainToken(sasl: InterBrokerSasl): Buffer {
  return Buffer.from(`\u0000${sasl.username}\u0000${sasl.password}`, 'utf8');
}
