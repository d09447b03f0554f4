import type { Socket } from 'node:net';
import { FrameDecoder } from '@fjord/protocol';
import type { Logger } from 'pino';
import type { ConnectionInfo, FrameHandler, FrameResult } from './RequestContext.js';

interface PendingResponse {
  done: boolean;
  result: FrameResult;
}

export interface ConnectionLimits {
  /** Largest request frame accepted (socket.request.max.bytes). */
  readonly maxFrameBytes: number;
  /** Largest frame before SASL authentication completes (sasl.server.max.receive.size). */
  readonly maxUnauthenticatedFrameBytes?: number;
  /** Requests processed concurrently before reading pauses. */
  readonly maxInFlight: number;
  /** Close connections idle for this long (connections.max.idle.ms); <= 0 disables. */
  readonly idleTimeoutMs: number;
}

/**
 * One client connection. Requests are dispatched as they arrive (clients pipeline them),
 * while responses go out strictly in request order, as Kafka's protocol requires. Reading
 * pauses when too many requests are in flight or the socket's send buffer backs up, so a
 * slow or hostile client cannot make the broker buffer without bound. A throttled client
 * (quota exceeded) is muted: requests it sends meanwhile wait until the throttle time is over.
 */
export class KafkaConnection {
  private readonly pending: PendingResponse[] = [];
  private readonly frames: FrameDecoder;
  private closed = false;
  private paused = false;
  private throttledUntil = 0;
  private throttleTimer?: NodeJS.Timeout;
  /** Frames that arrived while throttled, in order. */
  private readonly held: Buffer[] = [];

  constructor(
    private readonly socket: Socket,
    readonly info: ConnectionInfo,
    private readonly handler: FrameHandler,
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
  ) {
    this.frames = new FrameDecoder(limits.maxFrameBytes);
    socket.setNoDelay(true);
    if (limits.idleTimeoutMs > 0) {
      socket.setTimeout(limits.idleTimeoutMs, () => this.close('idle timeout'));
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', (err) => this.log.debug({ err, conn: info.connectionId }, 'socket error'));
    socket.on('close', () => this.onClose());
  }

  close(reason: string): void {
    if (this.closed) return;
    this.log.debug({ conn: this.info.connectionId, reason }, 'closing connection');
    this.closed = true;
    this.socket.destroy();
  }

  private onClose(): void {
    this.closed = true;
    this.pending.length = 0;
    this.held.length = 0;
    clearTimeout(this.throttleTimer);
    this.handler.connectionClosed?.(this.info);
  }

  private onData(chunk: Buffer): void {
    // Before authentication only small frames are accepted, so an unauthenticated client cannot
    // make the broker allocate socket.request.max.bytes.
    const unauthenticated =
      this.info.sasl !== undefined &&
      this.info.sasl.stage !== 'authenticated' &&
      this.limits.maxUnauthenticatedFrameBytes !== undefined;
    this.frames.maxFrameBytes = unauthenticated
      ? this.limits.maxUnauthenticatedFrameBytes!
      : this.limits.maxFrameBytes;
    const error = this.frames.push(chunk, (frame) => {
      if (this.closed) return;
      if (this.throttledUntil > 0) this.held.push(frame);
      else this.dispatch(frame);
    });
    if (error) {
      this.log.warn(
        {
          conn: this.info.connectionId,
          client: this.info.clientAddress,
          size: error.size,
          max: this.frames.maxFrameBytes,
          limit: unauthenticated ? 'sasl.server.max.receive.size' : 'socket.request.max.bytes',
        },
        'request size out of range, closing connection',
      );
      this.close('invalid request size');
    }
  }

  /** Mutes the channel for `ms` (extending a current throttle if it ends later). */
  private throttle(ms: number): void {
    const until = Date.now() + ms;
    if (until <= this.throttledUntil) return;
    this.throttledUntil = until;
    this.pause();
    clearTimeout(this.throttleTimer);
    this.throttleTimer = setTimeout(() => this.unthrottle(), ms);
    this.throttleTimer.unref();
  }

  private unthrottle(): void {
    this.throttledUntil = 0;
    while (this.held.length > 0 && this.throttledUntil === 0 && !this.closed)
      this.dispatch(this.held.shift()!);
    this.maybeResume();
  }

  private dispatch(frame: Buffer): void {
    const slot: PendingResponse = { done: false, result: null };
    this.pending.push(slot);
    let result: FrameResult | Promise<FrameResult>;
    try {
      result = this.handler.handleFrame(this.info, frame);
    } catch (err) {
      this.log.error({ err, conn: this.info.connectionId }, 'request handler failed');
      this.close('handler error');
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (r) => this.complete(slot, r),
        (err: unknown) => {
          // After the connection closed (or the broker began stopping) a late failure is moot.
          if (this.closed) return;
          this.log.error({ err, conn: this.info.connectionId }, 'request handler failed');
          this.close('handler error');
        },
      );
      if (this.pending.length >= this.limits.maxInFlight) this.pause();
    } else this.complete(slot, result);
  }

  private complete(slot: PendingResponse, result: FrameResult): void {
    slot.done = true;
    slot.result = result;
    if (this.closed) return;
    // A throttle mutes the channel as soon as it is known, even while the response waits behind
    // earlier ones: requests the client pipelined after the one over quota wait it out, as they
    // would behind Kafka's one-request-at-a-time channel.
    if (
      result !== null &&
      typeof result === 'object' &&
      !Array.isArray(result) &&
      (result.throttleMs ?? 0) > 0
    )
      this.throttle(result.throttleMs!);
    let corked = false;
    while (this.pending.length > 0 && this.pending[0]!.done) {
      const { result: r } = this.pending.shift()!;
      if (r === 'close') {
        this.close('handler requested close');
        return;
      }
      if (r === null) continue;
      if (!corked) {
        this.socket.cork();
        corked = true;
      }
      if (!Array.isArray(r)) {
        for (const chunk of r.chunks) this.socket.write(chunk);
        if (r.thenClose) {
          this.socket.uncork();
          this.closed = true;
          this.socket.end();
          return;
        }
        continue;
      }
      for (const chunk of r) this.socket.write(chunk);
    }
    if (corked) this.socket.uncork();
    if (this.socket.writableNeedDrain) this.pause();
    else this.maybeResume();
  }

  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private maybeResume(): void {
    if (
      this.paused &&
      this.throttledUntil === 0 &&
      this.pending.length < this.limits.maxInFlight &&
      !this.socket.writableNeedDrain
    ) {
      this.paused = false;
      this.socket.resume();
    }
  }
}
