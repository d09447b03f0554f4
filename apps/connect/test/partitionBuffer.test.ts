import { describe, expect, it } from 'vitest';
import { jsonLine, objectKey } from '../src/s3/objectLayout.js';
import { PartitionBuffer } from '../src/s3/PartitionBuffer.js';

const policy = { rollRecords: 3, rollBytes: 1_000_000, rollSeconds: 60 };
const HOUR = 3_600_000;
const t0 = Date.UTC(2026, 11, 5, 10, 59, 0);

describe('object names', () => {
  it('lay objects out by topic, partition, UTC hour of the first record and zero-padded offset range', () => {
    expect(objectKey('archive/', 'orders', 3, t0, 7n, 120n)).toBe(
      'archive/topic=orders/partition=3/dt=2026-12-05/hour=10/00000000000000000007-00000000000000000120.jsonl.gz',
    );
  });

  it('keep bytes that are not UTF-8 as base64 and headers in order', () => {
    const line = JSON.parse(
      jsonLine({
        topic: 't',
        partition: 0,
        offset: 5n,
        timestamp: t0,
        key: null,
        value: Buffer.from([0xff, 0x00]),
        headers: [[Buffer.from('h'), Buffer.from('x')]],
      }),
    );
    expect(line).toEqual({
      topic: 't',
      partition: 0,
      offset: 5,
      timestamp: t0,
      key: null,
      value: null,
      valueBase64: '/wA=',
      headers: [['h', 'eA==']],
    });
  });
});

describe('PartitionBuffer', () => {
  it('closes by record count, by size, by age, and when the hour changes', () => {
    const b = new PartitionBuffer<string>(policy, null);
    for (const o of [0n, 1n]) b.add(o, t0, 'x\n', 2, 0);
    expect(b.isFull()).toBe(false);
    b.add(2n, t0, 'x\n', 2, 0);
    expect(b.isFull()).toBe(true);
    expect(b.take()).toMatchObject({ first: 0n, last: 2n, entries: ['x\n', 'x\n', 'x\n'], bytes: 6 });

    const bySize = new PartitionBuffer<string>({ ...policy, rollBytes: 4 }, null);
    bySize.add(0n, t0, 'abcd\n', 5, 0);
    expect(bySize.isFull()).toBe(true);

    const byAge = new PartitionBuffer<string>(policy, null);
    byAge.add(0n, t0, 'x\n', 2, 1000);
    expect(byAge.isDue(60_999)).toBe(false);
    expect(byAge.isDue(61_000)).toBe(true);

    const byHour = new PartitionBuffer<string>(policy, null);
    byHour.add(0n, t0, 'x\n', 2, 0);
    expect(byHour.startsNewObject(t0 + 30_000)).toBe(false);
    expect(byHour.startsNewObject(t0 + HOUR)).toBe(true);
  });

  it('replays a range named before a crash exactly: neither size, age nor hour close it early', () => {
    const b = new PartitionBuffer<string>(policy, { first: 10n, last: 14n });
    for (let o = 10n; o < 14n; o++) {
      // The hour changes inside the range; the object named before still holds it whole.
      expect(b.startsNewObject(t0 + HOUR)).toBe(false);
      b.add(o, o === 10n ? t0 : t0 + HOUR, 'x\n', 2, 0);
      expect(b.isFull()).toBe(false);
    }
    expect(b.isDue(10 * HOUR)).toBe(false);
    b.add(14n, t0 + HOUR, 'x\n', 2, 0);
    expect(b.isFull()).toBe(true);
    expect(b.take()).toMatchObject({ first: 10n, last: 14n, firstTimestamp: t0 });
    // After the replay the usual rules hold again.
    for (const o of [15n, 16n, 17n]) b.add(o, t0, 'x\n', 2, 0);
    expect(b.isFull()).toBe(true);
  });
});
