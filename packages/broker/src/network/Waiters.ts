/**
 * Connections waiting for room (request memory, a request queue slot), in arrival order. On each
 * release every waiter is offered the room in turn and leaves once it got it, so a small request
 * is not stuck behind a large one that still does not fit.
 */
export class Waiters {
  private readonly queue: (() => boolean)[] = [];

  /** `retry` tries again and returns true once it got what it waited for. */
  add(retry: () => boolean): void {
    if (!this.queue.includes(retry)) this.queue.push(retry);
  }

  remove(retry: () => boolean): void {
    const i = this.queue.indexOf(retry);
    if (i >= 0) this.queue.splice(i, 1);
  }

  get size(): number {
    return this.queue.length;
  }

  wake(): void {
    // Retries may release or wait again; work on a snapshot.
    for (const retry of [...this.queue]) if (retry()) this.remove(retry);
  }
}
