import { describe, expect, it } from 'vitest';
import { ReadBufferPool } from '../../src/storage/ReadBufferPool.js';

describe('ReadBufferPool', () => {
  it('lends a buffer of at least the size asked and lends it again once given back', () => {
    const pool = new ReadBufferPool(8 << 20);
    const a = pool.take(100_000);
    expect(a.length).toBe(131_072);
    pool.give(a.subarray(10, 20)); // a view is enough
    expect(pool.idleBytes).toBe(131_072);
    const b = pool.take(70_000);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.idleBytes).toBe(0);
  });

  it('takes each buffer back once, and none it did not lend', () => {
    const pool = new ReadBufferPool(8 << 20);
    const a = pool.take(65_536);
    pool.give(a);
    pool.give(a);
    pool.give(Buffer.allocUnsafeSlow(65_536));
    expect(pool.idleBytes).toBe(65_536);
    // Given back twice it would be lent to two reads at once.
    const b = pool.take(65_536);
    const c = pool.take(65_536);
    expect(c.buffer).not.toBe(b.buffer);
  });

  it('keeps no more idle memory than its bound, and does not pool small or oversized reads', () => {
    const pool = new ReadBufferPool(1 << 20);
    const lent = Array.from({ length: 3 }, () => pool.take(512 * 1024));
    for (const b of lent) pool.give(b);
    expect(pool.idleBytes).toBe(1 << 20);
    const small = pool.take(1_000);
    const huge = pool.take(20 << 20);
    expect([small.length, huge.length]).toEqual([1_000, 20 << 20]);
    pool.give(small);
    pool.give(huge);
    expect(pool.idleBytes).toBe(1 << 20);
  });
});
