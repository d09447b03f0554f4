import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ConnectionInfo, FrameHandler, FrameResult } from './RequestContext.js';

interface PendingResponse {
  done: boolean;
  result: FrameResult;
}

export interface ConnectionLimits {
  /** Largest request frame accepted (socket.request.max.bytes). */
  readonly maxFrameBytes: number;
  /** Requests processed concurrently before reading pauses. */
  readonly maxInFlight: number;
  /** Close connections idle for this long (connections.max.idle.ms); <= 0 disables. */
  readonly idleTimeoutMs: number;
}

/**
 * One client connection. Requests are dispatched as they arrive (clients pipeline them),
 * while responses go out strictly in request order, as Kafka's protocol requires. Reading
 * pauses when too many requests are in flight or the socket's send buffer backs up, so a
 * slow or hostile client cannot make the broker buffer without bound.
 */
export class KafkaConnection {
  private readonly pending: PendingResponse[] = [];
  /** The size prefix being read, and the frame being filled when it spans chunks. */
  private readonly header = Buffer.alloc(4);
  private headerFill = 0;
  private frame?: Buffer;
  private frameFill = 0;
  private closed = false;
  private paused = false;

  constructor(
    private readonly socket: Socket,
    readonly info: ConnectionInfo,
    private readonly handler: FrameHandler,
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
  ) {
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
    this.handler.connectionClosed?.(this.info);
  }

  /**
   * Splits the TCP stream into size-prefixed frames and refuses oversized ones before
   * buffering anything. A frame that lies within one chunk is dispatched as a view; one that
   * spans chunks is copied once into a buffer allocated at its exact size.
   */
  private onData(chunk: Buffer): void {
    let data = chunk;
    while (!this.closed && data.length > 0) {
      if (this.frame === undefined) {
        // The 4-byte size prefix may itself be split across chunks.
        const take = Math.min(4 - this.headerFill, data.length);
        data.copy(this.header, this.headerFill, 0, take);
        this.headerFill += take;
        data = data.subarray(take);
        if (this.headerFill < 4) return;
        this.headerFill = 0;
        const size = this.header.readInt32BE(0);
        if (size < 0 || size > this.limits.maxFrameBytes) {
          this.log.warn(
            {
              conn: this.info.connectionId,
              client: this.info.clientAddress,
              size,
              max: this.limits.maxFrameBytes,
            },
            'request size out of range, closing connection',
          );
          this.close('invalid request size');
          return;
        }
        if (data.length >= size) {
          this.dispatch(data.subarray(0, size));
          data = data.subarray(size);
          continue;
        }
        this.frame = Buffer.allocUnsafe(size);
        this.frameFill = 0;
      }
      const take = Math.min(this.frame.length - this.frameFill, data.length);
      data.copy(this.frame, this.frameFill, 0, take);
      this.frameFill += take;
      data = data.subarray(take);
      if (this.frameFill === this.frame.length) {
        const frame = this.frame;
        this.frame = undefined;
        this.dispatch(frame);
      }
    }
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
    if (this.paused && this.pending.length < this.limits.maxInFlight && !this.socket.writableNeedDrain) {
      this.paused = false;
      this.socket.resume();
    }
  }
}
