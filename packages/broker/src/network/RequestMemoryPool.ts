import { Waiters } from './Waiters.js';

/**
 * The broker-wide budget for request bytes (`queued.max.request.bytes`, Kafka's MemoryPool in
 * its SocketServer): a connection reserves a frame's announced size before reading its body and
 * releases it once the request is answered; when the pool has no room the connection is muted
 * until it has. Reservation is accounting only: the bytes are held as they arrive.
 *
 * Unlike Kafka's SimpleMemoryPool (which admits any frame while a byte is free, so a few slow
 * clients announcing huge frames can starve everyone), frames above a quarter of the pool
 * ("large") share three quarters of it, and the last quarter is always left to small requests:
 * ordinary clients keep being served while large frames trickle in. One large frame is admitted
 * alone even when it exceeds that share (or the whole pool), so every frame up to
 * `socket.request.max.bytes` can be read: the pool holds at most its size plus one such frame.
 * A capacity <= 0 means unbounded (Kafka's default, -1).
 */
export class RequestMemoryPool {
  private reserved = 0;
  private largeReserved = 0;
  private readonly waiters = new Waiters();

  constructor(readonly capacity: number) {}

  get bounded(): boolean {
    return this.capacity > 0;
  }

  /** Bytes reserved by frames being read or requests being handled. */
  get reservedBytes(): number {
    return this.reserved;
  }

  /** Connections muted until the pool has room. */
  get waiting(): number {
    return this.waiters.size;
  }

  tryReserve(bytes: number): boolean {
    if (this.bounded) {
      if (this.isLarge(bytes)) {
        // The first large frame goes in alone; others only within the share and the pool.
        if (
          this.largeReserved > 0 &&
          (this.largeReserved + bytes > this.largeShare || this.reserved + bytes > this.capacity)
        )
          return false;
        this.largeReserved += bytes;
      } else if (this.reserved + bytes > this.capacity) {
        // Past the pool only into the quarter large frames leave free.
        const small = this.reserved - this.largeReserved;
        if (small + bytes > this.capacity - this.largeShare) return false;
      }
    }
    this.reserved += bytes;
    return true;
  }

  release(bytes: number): void {
    this.reserved -= bytes;
    if (this.bounded && this.isLarge(bytes)) this.largeReserved -= bytes;
    if (this.waiters.size > 0) this.waiters.wake();
  }

  /** Calls `retry` whenever memory is released until it returns true (or is cancelled). */
  waitForRoom(retry: () => boolean): void {
    this.waiters.add(retry);
  }

  cancelWait(retry: () => boolean): void {
    this.waiters.remove(retry);
  }

  private get largeShare(): number {
    return Math.floor((this.capacity * 3) / 4);
  }

  private isLarge(bytes: number): boolean {
    return bytes > this.capacity / 4;
  }
}
