import { buildRecordBatch, CompressionCodec, decodeRecords } from '@fjord/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrepareOptions } from '../../src/server/handlers/prepareProduceRecords.js';
import { ShardPool, ShardStoppedError } from '../../src/shard/ShardPool.js';

const PLAIN: PrepareOptions = {
  produceVersion: 9,
  maxBatchBytes: 1 << 20,
  compacted: false,
  targetCodec: undefined,
};
const log = pino({ level: 'silent' });
const batch = (values: string[], key: string | null = 'k') =>
  buildRecordBatch({
    records: values.map((v) => ({ key: key === null ? null : Buffer.from(key), value: Buffer.from(v) })),
  });

// One pool for the file: starting shard threads from source (through tsx) takes seconds.
let pool: ShardPool;
beforeAll(() => {
  pool = new ShardPool(2, log);
  pool.start();
});
afterAll(() => pool.stop());

describe('ShardPool (real worker threads)', () => {
  it('prepares records on the owner shard and gives back the same bytes', async () => {
    const records = batch(['a', 'b', 'c']);
    const r = await pool.prepare('orders', 0, records, PLAIN);
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.recordCount).toBe(3);
    expect(r.data.equals(records)).toBe(true);
    expect(r.batches[0]!.producerId).toBe(-1n);
  });

  it('refuses a corrupted batch with CORRUPT_MESSAGE, as the event loop would', async () => {
    const records = batch(['a']);
    records[records.length - 1]! ^= 0xff; // a record byte under the CRC
    const r = await pool.prepare('orders', 1, records, PLAIN);
    expect(r).toMatchObject({ kind: 'error', error: 'CORRUPT_MESSAGE' });
  });

  it('applies the topic rules on the shard: keyless records of a compacted topic, recompression', async () => {
    const keyless = await pool.prepare('c', 0, batch(['x', 'y'], null), { ...PLAIN, compacted: true });
    expect(keyless).toEqual({ kind: 'keyless', keyless: [0, 1] });
    const r = await pool.prepare('z', 0, batch(['hello', 'world']), {
      ...PLAIN,
      targetCodec: CompressionCodec.gzip,
    });
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(decodeRecords(r.data, 0).map((x) => x.value?.toString())).toEqual(['hello', 'world']);
  });

  it('reuses a buffer given back after the append, and the next records are exactly their own bytes', async () => {
    const first = batch(['x'.repeat(3000), 'y'.repeat(3000)]);
    const a = await pool.prepare('orders', 5, first, PLAIN);
    expect(a.kind).toBe('ok');
    pool.recycle(a);
    expect(pool.spareBuffers).toBe(1);
    const second = batch(['short']);
    const b = await pool.prepare('orders', 5, second, PLAIN);
    expect(pool.spareBuffers).toBe(0);
    if (b.kind !== 'ok') throw new Error(b.kind);
    // The reused buffer is larger and held the first records: only the second's bytes show.
    expect(b.data.equals(second)).toBe(true);
  });

  it('answers one partition in the order its records were sent', async () => {
    const done: number[] = [];
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        pool.prepare('orders', 3, batch([`m${i}`]), PLAIN).then(() => done.push(i)),
      ),
    );
    expect(done).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('fails what a dead shard thread had in flight, starts it again, and serves the next records', async () => {
    const shard = pool.ownerOf('orders', 0);
    const inFlight = Array.from({ length: 50 }, () =>
      pool.prepare('orders', 0, batch(['v'.repeat(1000)]), PLAIN),
    );
    const killed = pool.workers()[shard]!;
    await killed.terminate();
    const outcomes = await Promise.allSettled(inFlight);
    const failed = outcomes.filter((o) => o.status === 'rejected');
    for (const f of failed) expect((f as PromiseRejectedResult).reason).toBeInstanceOf(ShardStoppedError);
    // Every task either completed before the kill or failed with ShardStoppedError: none lost.
    expect(outcomes.every((o) => o.status === 'fulfilled' || o.reason instanceof ShardStoppedError)).toBe(
      true,
    );
    expect(pool.restarts).toBe(1);
    expect(pool.workers()[shard]).not.toBe(killed);
    const after = await pool.prepare('orders', 0, batch(['after']), PLAIN);
    expect(after.kind).toBe('ok');
  });
});
