import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { FrameDecoder, type FrameSink } from '@fjord/protocol';
import type { Logger } from 'pino';
import { readAcceptedDirectly } from './DirectReads.js';
import type { ConnectionInfo, FrameHandler, FrameResult } from './RequestContext.js';
import type { RequestMemoryPool } from './RequestMemoryPool.js';
import type { RequestQueue } from './RequestQueue.js';

interface PendingResponse {
  done: boolean;
  result: FrameResult;
  /** Request bytes reserved in the memory pool, given back (with the queue slot) once answered. */
  bytes: number;
  released: boolean;
}

/** The broker-wide bounds every connection's requests are admitted through. */
export interface RequestAdmission {
  readonly memory: RequestMemoryPool;
  readonly queue: RequestQueue;
}

export interface ConnectionLimits {
  /** Largest request frame accepted (socket.request.max.bytes). */
  readonly maxFrameBytes: number;
  /** Largest frame before SASL authentication completes (sasl.server.max.receive.size). */
  readonly maxUnauthenticatedFrameBytes?: number;
  /** Requests of this connection processed concurrently before reading pauses. */
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
 * Broker-wide, a frame's body is read only once the request memory pool has room for it, and a
 * complete request is dispatched only with a free request queue slot; until then the
 * connection is muted (docs/adr/0020-bounded-request-memory.md).
 */
export class KafkaConnection {
  private readonly pending: PendingResponse[] = [];
  private readonly frames: FrameDecoder;
  private closed = false;
  private paused = false;
  private throttledUntil = 0;
  private throttleTimer?: NodeJS.Timeout;
  /** Complete frames not dispatched yet (throttled, or waiting for a queue slot), in order. */
  private readonly held: Buffer[] = [];
  /** Memory reserved for the frame the decoder holds back, before it resumes reading it. */
  private reservedForHeldBack = 0;
  /** A queue slot granted while waiting, for the first held frame. */
  private slotGranted = false;
  private readonly sink: FrameSink = {
    reserve: (size) => this.reserve(size),
    frame: (frame) => this.onFrame(frame),
  };

  constructor(
    private readonly socket: Socket,
    readonly info: ConnectionInfo,
    private readonly handler: FrameHandler,
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
    private readonly admission: RequestAdmission,
  ) {
    this.frames = new FrameDecoder(limits.maxFrameBytes);
    socket.setNoDelay(true);
    if (limits.idleTimeoutMs > 0) {
      socket.setTimeout(limits.idleTimeoutMs, () => this.close('idle timeout'));
    }
    // TLS sockets decrypt into their own buffers: only plain TCP can read into frames directly.
    const direct =
      (socket as TLSSocket).encrypted !== true &&
      readAcceptedDirectly(socket, this.frames, (buffer, n) => this.onRead(buffer, n));
    if (!direct) socket.on('data', (chunk: Buffer) => this.onRead(chunk));
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
    // What this connection reserved and will not use; requests still being handled give theirs
    // back when they complete.
    const { memory, queue } = this.admission;
    memory.cancelWait(this.retryReserve);
    queue.cancelWait(this.retrySlot);
    let unused = this.reservedForHeldBack + Math.max(0, this.frames.reservedBytes);
    for (const frame of this.held) unused += frame.length;
    this.reservedForHeldBack = 0;
    this.held.length = 0;
    if (unused > 0) memory.release(unused);
    if (this.slotGranted) {
      this.slotGranted = false;
      queue.leave();
    }
    clearTimeout(this.throttleTimer);
    this.handler.connectionClosed?.(this.info);
  }

  /** The decoder announces a frame: read it only if the pool has room, else mute until it has. */
  private reserve(size: number): boolean {
    if (this.admission.memory.tryReserve(size)) return true;
    this.admission.memory.waitForRoom(this.retryReserve);
    this.pause();
    return false;
  }

  private readonly retryReserve = (): boolean => {
    if (this.closed) return true;
    const size = this.frames.heldBackSize;
    if (size < 0 || this.reservedForHeldBack > 0) return true;
    if (!this.admission.memory.tryReserve(size)) return false;
    this.reservedForHeldBack = size;
    // Not within the releasing call: decoding dispatches requests, which may release again.
    setImmediate(() => this.resumeDecoding());
    return true;
  };

  private resumeDecoding(): void {
    if (this.closed) return;
    this.reservedForHeldBack = 0;
    const error = this.frames.resume(this.sink);
    if (error) this.refuse(error.size);
    else this.maybeResume();
  }

  private onFrame(frame: Buffer): void {
    if (this.closed) {
      this.admission.memory.release(frame.length);
      return;
    }
    this.held.push(frame);
    this.dispatchHeld();
  }

  /** Dispatches held frames in order while not throttled and queue slots are free. */
  private dispatchHeld(): void {
    while (this.held.length > 0 && this.throttledUntil === 0 && !this.closed) {
      if (this.slotGranted) this.slotGranted = false;
      else if (!this.admission.queue.tryEnter()) {
        this.admission.queue.waitForSlot(this.retrySlot);
        this.pause();
        return;
      }
      this.dispatch(this.held.shift()!);
    }
  }

  private readonly retrySlot = (): boolean => {
    if (this.closed || this.slotGranted) return true;
    if (!this.admission.queue.tryEnter()) return false;
    this.slotGranted = true;
    setImmediate(() => {
      this.dispatchHeld();
      this.maybeResume();
    });
    return true;
  };

  /** Gives back a request's memory and queue slot, once. */
  private releaseRequest(slot: PendingResponse): void {
    if (slot.released) return;
    slot.released = true;
    this.admission.memory.release(slot.bytes);
    this.admission.queue.leave();
  }

  /**
   * Bytes read: a 'data' chunk (this connection's to keep), or `n` bytes placed by
   * `frames.nextReadBuffer()` (a frame's own buffer, or scratch memory copied out at once).
   */
  private onRead(chunk: Buffer, n?: number): void {
    // Before authentication only small frames are accepted, so an unauthenticated client cannot
    // make the broker allocate socket.request.max.bytes.
    const unauthenticated =
      this.info.sasl !== undefined &&
      this.info.sasl.stage !== 'authenticated' &&
      this.limits.maxUnauthenticatedFrameBytes !== undefined;
    this.frames.maxFrameBytes = unauthenticated
      ? this.limits.maxUnauthenticatedFrameBytes!
      : this.limits.maxFrameBytes;
    const error =
      n === undefined ? this.frames.push(chunk, this.sink) : this.frames.pushRead(chunk, n, this.sink);
    if (error) this.refuse(error.size, unauthenticated);
  }

  private refuse(size: number, unauthenticated = false): void {
    this.log.warn(
      {
        conn: this.info.connectionId,
        client: this.info.clientAddress,
        size,
        max: this.frames.maxFrameBytes,
        limit: unauthenticated ? 'sasl.server.max.receive.size' : 'socket.request.max.bytes',
      },
      'request size out of range, closing connection',
    );
    this.close('invalid request size');
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
    this.dispatchHeld();
    this.maybeResume();
  }

  /** Handles one frame that holds a queue slot and its size in the memory pool. */
  private dispatch(frame: Buffer): void {
    const slot: PendingResponse = { done: false, result: null, bytes: frame.length, released: false };
    this.pending.push(slot);
    let result: FrameResult | Promise<FrameResult>;
    try {
      result = this.handler.handleFrame(this.info, frame);
    } catch (err) {
      this.releaseRequest(slot);
      this.log.error({ err, conn: this.info.connectionId }, 'request handler failed');
      this.close('handler error');
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (r) => this.complete(slot, r),
        (err: unknown) => {
          this.releaseRequest(slot);
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
    this.releaseRequest(slot);
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
        writeAll(this.socket, r.chunks, r.written);
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
      !this.closed &&
      this.throttledUntil === 0 &&
      this.held.length === 0 &&
      !this.frames.isStalled &&
      this.pending.length < this.limits.maxInFlight &&
      !this.socket.writableNeedDrain
    ) {
      this.paused = false;
      this.socket.resume();
    }
  }
}

/** Writes a response's chunks (one vectored write while corked); `written` once they have left. */
function writeAll(socket: Socket, chunks: readonly Buffer[], written?: () => void): void {
  const last = chunks.length - 1;
  for (let i = 0; i < last; i++) socket.write(chunks[i]!);
  if (last < 0) written?.();
  else if (written) socket.write(chunks[last]!, () => written());
  else socket.write(chunks[last]!);
}
