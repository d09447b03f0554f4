import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogSegment } from '../../src/storage/LogSegment.js';
import { batchOf, recordsOf, tempDir } from './helpers.js';

const settings = { indexIntervalBytes: 100, segmentIndexBytes: 10 * 1024 * 1024 };

/** Builds `count` one-record batches with stamped offsets `base + i * 2` (gaps, as after compaction). */
function fill(segment: LogSegment, base: number, count: number): Buffer[] {
  const batches: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const b = batchOf([{ value: `v${i}`.padEnd(10 + (i % 7) * 13, '.') }], { timestamp: 5_000 + i * 10 });
    b.writeBigInt64BE(BigInt(base + i * 2), 0);
    segment.append(b, 0);
    batches.push(b);
  }
  return batches;
}

describe('LogSegment', () => {
  it('appends batches in one write and reads whole batches back through the index', () => {
    const segment = LogSegment.create(tempDir(), 100, settings, 0);
    const batches = fill(segment, 100, 40);
    expect(segment.nextOffset).toBe(100 + 39 * 2 + 1);
    expect(segment.offsetIndex.entryCount).toBeGreaterThan(5);
    // Offset 101 is a gap: the read starts at the next batch.
    expect(recordsOf(segment.read(101, 1))).toEqual([`102:${'v1'.padEnd(23, '.')}`]);
    // maxBytes below the first batch's size still returns it whole (KIP-74).
    expect(segment.read(110, 1)!.length).toBe(batches[5]!.length);
    // maxBytes bounds whole batches; maxPosition stops before a batch.
    const two = batches[5]!.length + batches[6]!.length;
    expect(segment.read(110, two + 3)!.equals(Buffer.concat([batches[5]!, batches[6]!]))).toBe(true);
    const limit = segment.positionOf(114);
    expect(recordsOf(segment.read(110, 1_000_000, limit)).map((r) => r.split(':')[0])).toEqual([
      '110',
      '112',
    ]);
    expect(segment.read(200, 100)).toBeUndefined();
  });

  it('writes index files on close and trusts them on the next load', () => {
    const dir = tempDir();
    const segment = LogSegment.create(dir, 0, settings, 0);
    fill(segment, 0, 30);
    const entries = segment.offsetIndex.entryCount;
    const { nextOffset, maxTimestamp, offsetOfMaxTimestamp } = segment;
    segment.close();
    expect(readdirSync(dir).sort()).toEqual([
      '00000000000000000000.index',
      '00000000000000000000.log',
      '00000000000000000000.timeindex',
    ]);
    const reopened = LogSegment.open(dir, 0, settings);
    expect(reopened.loadTrusted()).toBe(true);
    expect(reopened.offsetIndex.entryCount).toBe(entries);
    expect(reopened.nextOffset).toBe(nextOffset);
    expect(reopened.maxTimestamp).toBe(maxTimestamp);
    expect(reopened.offsetOfMaxTimestamp).toBe(offsetOfMaxTimestamp);
    expect(recordsOf(reopened.read(40, 1))[0]).toMatch(/^40:v20/);
  });

  it('rebuilds missing or garbage index files from batch headers', () => {
    const dir = tempDir();
    const segment = LogSegment.create(dir, 0, settings, 0);
    fill(segment, 0, 30);
    segment.close();
    rmSync(join(dir, '00000000000000000000.index'));
    writeFileSync(join(dir, '00000000000000000000.timeindex'), Buffer.alloc(36, 0xff));
    const reopened = LogSegment.open(dir, 0, settings);
    expect(reopened.loadTrusted()).toBe(true);
    expect(reopened.nextOffset).toBe(59);
    expect(reopened.maxTimestamp).toBe(5_000 + 29 * 10);
    expect(recordsOf(reopened.read(40, 1))[0]).toMatch(/^40:v20/);
    reopened.close();
    expect(existsSync(join(dir, '00000000000000000000.index'))).toBe(true);
    // An index pointing past the end of the log is noticed and replaced as well.
    const bogus = Buffer.alloc(8);
    bogus.writeInt32BE(3, 0);
    bogus.writeInt32BE(1_000_000, 4);
    writeFileSync(join(dir, '00000000000000000000.index'), bogus);
    const again = LogSegment.open(dir, 0, settings);
    expect(again.loadTrusted()).toBe(true);
    expect(again.nextOffset).toBe(59);
  });

  it('finds the first batch at or after a timestamp', () => {
    const segment = LogSegment.create(tempDir(), 0, settings, 0);
    fill(segment, 0, 30);
    expect(segment.findByTimestamp(0)!.baseOffset).toBe(0);
    expect(segment.findByTimestamp(5_105)!.baseOffset).toBe(22);
    expect(segment.findByTimestamp(5_110)!.baseOffset).toBe(22);
    expect(segment.findByTimestamp(6_000)).toBeUndefined();
  });

  it('truncates whole batches and keeps indexes consistent', () => {
    const segment = LogSegment.create(tempDir(), 0, settings, 0);
    const batches = fill(segment, 0, 30);
    const removed = segment.truncateTo(21); // inside the gap before batch 22
    expect(removed).toBe(batches.slice(11).reduce((n, b) => n + b.length, 0));
    expect(segment.nextOffset).toBe(21);
    expect(segment.maxTimestamp).toBe(5_100);
    expect(recordsOf(segment.read(0, 1_000_000)).length).toBe(11);
    fill(segment, 21, 3);
    expect(recordsOf(segment.read(23, 1))[0]).toMatch(/^23:/);
  });

  it('agrees with a linear scan for random batch sizes, index intervals and reads', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ records: fc.integer({ min: 1, max: 4 }), size: fc.integer({ min: 0, max: 300 }) }),
          {
            minLength: 1,
            maxLength: 60,
          },
        ),
        fc.integer({ min: 0, max: 1_000 }),
        fc.array(fc.record({ at: fc.nat(), maxBytes: fc.integer({ min: 1, max: 3_000 }) }), {
          maxLength: 20,
        }),
        (specs, interval, reads) => {
          const segment = LogSegment.create(tempDir(), 0, { ...settings, indexIntervalBytes: interval }, 0);
          const batches: { bytes: Buffer; base: number; last: number }[] = [];
          let next = 0;
          for (const spec of specs) {
            const b = batchOf(Array.from({ length: spec.records }, (_, j) => 'x'.repeat(spec.size + j)));
            b.writeBigInt64BE(BigInt(next), 0);
            batches.push({ bytes: b, base: next, last: next + spec.records - 1 });
            segment.append(b, 0);
            next += spec.records;
          }
          for (const { at, maxBytes } of reads) {
            const offset = at % next;
            const first = batches.findIndex((b) => b.last >= offset);
            const expected: Buffer[] = [batches[first]!.bytes];
            let total = expected[0]!.length;
            for (const b of batches.slice(first + 1)) {
              if (total + b.bytes.length > maxBytes) break;
              expected.push(b.bytes);
              total += b.bytes.length;
            }
            expect(segment.read(offset, maxBytes)!.equals(Buffer.concat(expected))).toBe(true);
          }
          segment.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});
