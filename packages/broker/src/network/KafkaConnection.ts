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
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private expectedSize = -1;
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

  /** Splits the TCP stream into size-prefixed frames; refuses oversized ones before buffering. */
  private onData(chunk: Buffer): void {
    let data = chunk;
    while (!this.closed && data.length > 0) {
      if (this.expectedSize < 0) {
        if (this.bufferedBytes + data.length < 4) {
          this.buffer(data);
          return;
        }
        let size: number;
        if (this.bufferedBytes === 0) {
          size = data.readInt32BE(0);
          data = data.subarray(4);
        } else {
          const head = Buffer.concat([...this.buffered, data.subarray(0, 4 - this.bufferedBytes)]);
          data = data.subarray(4 - this.bufferedBytes);
          this.buffered = [];
          this.bufferedBytes = 0;
          size = head.readInt32BE(0);
        }
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
        this.expectedSize = size;
      }
      const need = this.expectedSize - this.bufferedBytes;
      if (data.length < need) {
        this.buffer(data);
        return;
      }
      let frame: Buffer;
      if (this.bufferedBytes === 0) frame = data.subarray(0, need);
      else {
        frame = Buffer.concat([...this.buffered, data.subarray(0, need)], this.expectedSize);
        this.buffered = [];
        this.bufferedBytes = 0;
      }
      data = data.subarray(need);
      this.expectedSize = -1;
      this.dispatch(frame);
    }
  }

  private buffer(data: Buffer): void {
    // Copy: the chunk's memory may be a slice of a larger pooled buffer we must not pin.
    this.buffered.push(Buffer.from(data));
    this.bufferedBytes += data.length;
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
