import { Waiters } from './Waiters.js';

/**
 * The broker-wide bound on requests received and not yet answered (`queued.max.requests`,
 * Kafka's request channel queue): a connection with a complete request and no free slot holds it
 * and stops reading until a slot frees, as Kafka's network threads block on a full queue.
 */
export class RequestQueue {
  private inFlight = 0;
  private readonly waiters = new Waiters();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.inFlight;
  }

  tryEnter(): boolean {
    if (this.inFlight >= this.capacity) return false;
    this.inFlight++;
    return true;
  }

  leave(): void {
    this.inFlight--;
    if (this.waiters.size > 0) this.waiters.wake();
  }

  waitForSlot(retry: () => boolean): void {
    this.waiters.add(retry);
  }

  cancelWait(retry: () => boolean): void {
    this.waiters.remove(retry);
  }
}
