import { describe, expect, it } from 'vitest';
import { RequestMemoryPool } from '../../src/network/RequestMemoryPool.js';
import { RequestQueue } from '../../src/network/RequestQueue.js';

const MiB = 1024 * 1024;

describe('RequestMemoryPool', () => {
  it('admits one large frame alone, even past the pool, and keeps a quarter for small requests', () => {
    const pool = new RequestMemoryPool(64 * MiB);
    expect(pool.tryReserve(100 * MiB)).toBe(true); // larger than the pool: admitted alone
    expect(pool.tryReserve(100 * MiB)).toBe(false); // a second large one waits
    expect(pool.tryReserve(20 * MiB)).toBe(false); // so does a smaller large one
    // Small requests (up to a quarter of the pool) still get the quarter left to them.
    for (let i = 0; i < 16; i++) expect(pool.tryReserve(MiB)).toBe(true);
    expect(pool.tryReserve(MiB)).toBe(false);
    pool.release(100 * MiB);
    expect(pool.tryReserve(20 * MiB)).toBe(true);
    expect(pool.tryReserve(20 * MiB)).toBe(true);
    // Large frames share three quarters at most (48 MiB), so a third 20 MiB one waits.
    expect(pool.tryReserve(20 * MiB)).toBe(false);
    expect(pool.reservedBytes).toBe(56 * MiB);
  });

  it('wakes waiters on release, each taking the room it fits in', () => {
    const pool = new RequestMemoryPool(16 * MiB);
    expect(pool.tryReserve(16 * MiB)).toBe(true);
    const got: string[] = [];
    const waiter = (name: string, bytes: number) => {
      const retry = () => {
        if (!pool.tryReserve(bytes)) return false;
        got.push(name);
        return true;
      };
      pool.waitForRoom(retry);
      return retry;
    };
    waiter('large', 12 * MiB);
    const cancelled = waiter('cancelled', MiB);
    waiter('small', MiB);
    pool.cancelWait(cancelled);
    expect(pool.waiting).toBe(2);
    pool.release(16 * MiB);
    expect(got).toEqual(['large', 'small']);
    expect(pool.waiting).toBe(0);
  });

  it('is unbounded at -1, as Kafka by default', () => {
    const pool = new RequestMemoryPool(-1);
    for (let i = 0; i < 100; i++) expect(pool.tryReserve(100 * MiB)).toBe(true);
  });
});

describe('RequestQueue', () => {
  it('holds at most queued.max.requests and hands a freed slot to a waiter', () => {
    const queue = new RequestQueue(2);
    expect(queue.tryEnter()).toBe(true);
    expect(queue.tryEnter()).toBe(true);
    expect(queue.tryEnter()).toBe(false);
    let waited = false;
    queue.waitForSlot(() => (waited = queue.tryEnter()));
    queue.leave();
    expect(waited).toBe(true);
    expect(queue.size).toBe(2);
  });
});
