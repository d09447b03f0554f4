import { closeSync, mkdtempSync, openSync, readdirSync, statSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchOffsets, buildRecordBatch, decodeRecords } from '@fjord/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LOG_CONFIG,
  type LogConfig,
  OffsetOutOfRangeError,
  PartitionLog,
} from '../../src/storage/PartitionLog.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'fjord-log-'));
const batch = (values: string[], timestamp = 1000n) =>
  buildRecordBatch({ records: values.map((v) => ({ value: Buffer.from(v) })), baseTimestamp: timestamp });
const small: LogConfig = { ...DEFAULT_LOG_CONFIG, segmentBytes: 400, indexIntervalBytes: 100 };

function valuesOf(data: Buffer | undefined): string[] {
  if (!data) return [];
  return batchOffsets(data).flatMap((pos) => decodeRecords(data, pos).map((r) => `${r.offset}:${r.value}`));
}

function readAll(log: PartitionLog, from = log.logStartOffset): string[] {
  const out: string[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const data = log.read(offset, 1_000_000)!;
    const got = valuesOf(data).filter((s) => Number(s.split(':')[0]) >= offset);
    out.push(...got);
    offset = Number(got[got.length - 1]!.split(':')[0]) + 1;
  }
  return out;
}

describe('PartitionLog', () => {
  it('assigns offsets, rolls segments and reads back across them', () => {
    const log = PartitionLog.open(tmp(), small, { cleanShutdown: true, now: 0 });
    const expected: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = log.append(batch([`a${i}`, `b${i}`]), 0, i);
      expect(r.firstOffset).toBe(i * 2);
      expect(r.lastOffset).toBe(i * 2 + 1);
      expected.push(`${i * 2}:a${i}`, `${i * 2 + 1}:b${i}`);
    }
    expect(log.segmentCount).toBeGreaterThan(3);
    expect(log.logEndOffset).toBe(60);
    expect(readAll(log)).toEqual(expected);
    // A read starting inside a batch returns that whole batch first.
    expect(valuesOf(log.read(13, 1))[0]).toBe('12:a6');
    expect(() => log.read(61, 100)).toThrow(OffsetOutOfRangeError);
    expect(log.read(60, 100)).toBeUndefined();
  });

  it('finds any offset the same way a linear scan would', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 40 }),
        fc.nat(),
        (sizes, pick) => {
          const log = PartitionLog.open(tmp(), small, { cleanShutdown: true, now: 0 });
          for (const [i, n] of sizes.entries())
            log.append(batch(Array.from({ length: n }, (_, j) => `${i}-${j}`)), 0, 0);
          const target = pick % log.logEndOffset;
          const first = valuesOf(log.read(target, 1));
          const firstOffsets = first.map((s) => Number(s.split(':')[0]));
          expect(firstOffsets).toContain(target);
          log.close(0);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('respects the high-watermark bound and maxBytes', () => {
    const log = PartitionLog.open(tmp(), DEFAULT_LOG_CONFIG, { cleanShutdown: true, now: 0 });
    for (let i = 0; i < 5; i++) log.append(batch([`v${i}`]), 0, 0);
    expect(valuesOf(log.read(0, 1_000_000, 3))).toEqual(['0:v0', '1:v1', '2:v2']);
    expect(valuesOf(log.read(0, 1))).toEqual(['0:v0']);
    expect(log.read(3, 1_000, 3)).toBeUndefined();
  });

  it('finds offsets by timestamp', () => {
    const log = PartitionLog.open(tmp(), small, { cleanShutdown: true, now: 0 });
    for (let i = 0; i < 20; i++) log.append(batch([`t${i}`], BigInt(1000 + i * 10)), 0, 0);
    expect(log.findBatchByTimestamp(1095)!.location.baseOffset).toBe(10);
    expect(log.findBatchByTimestamp(1100)!.location.baseOffset).toBe(10);
    expect(log.findBatchByTimestamp(0)!.location.baseOffset).toBe(0);
    expect(log.findBatchByTimestamp(5000)).toBeUndefined();
    expect(log.maxTimestamp()).toEqual({ timestamp: 1190, offset: 19 });
  });

  it('recovers from a torn tail and from a corrupted last batch after a crash', () => {
    const dir = tmp();
    const log = PartitionLog.open(dir, DEFAULT_LOG_CONFIG, { cleanShutdown: true, now: 0 });
    for (let i = 0; i < 10; i++) log.append(batch([`v${i}`]), 0, 0);
    log.flush(0);
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.log'))!);
    const size = statSync(file).size;
    truncateSync(file, size - 7); // torn write of the last batch
    const reopened = PartitionLog.open(dir, DEFAULT_LOG_CONFIG, { cleanShutdown: false, now: 0 });
    expect(reopened.logEndOffset).toBe(9);
    expect(readAll(reopened)).toEqual(Array.from({ length: 9 }, (_, i) => `${i}:v${i}`));
    reopened.append(batch(['after']), 0, 0);
    reopened.close(0);

    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from([0xff]), 0, 1, statSync(file).size - 2); // flip a byte inside the last batch
    closeSync(fd);
    const again = PartitionLog.open(dir, DEFAULT_LOG_CONFIG, { cleanShutdown: false, now: 0 });
    expect(again.logEndOffset).toBe(9);
  });

  it('truncates, deletes records and applies retention', () => {
    const log = PartitionLog.open(tmp(), small, { cleanShutdown: true, now: 0 });
    for (let i = 0; i < 30; i++) log.append(batch([`v${i}`], BigInt(i)), i < 20 ? 0 : 1, 0);
    log.truncateTo(25);
    expect(log.logEndOffset).toBe(25);
    expect(log.leaderEpochs.endOffsetFor(0, log.logEndOffset)).toEqual({ epoch: 0, endOffset: 20 });
    expect(log.leaderEpochs.endOffsetFor(1, log.logEndOffset)).toEqual({ epoch: 1, endOffset: 25 });
    log.truncateTo(18);
    expect(log.leaderEpochs.latestEpoch).toBe(0);
    expect(log.deleteRecordsBefore(7)).toBe(7);
    expect(() => log.read(6, 100)).toThrow(OffsetOutOfRangeError);
    expect(valuesOf(log.read(7, 1))[0]).toBe('7:v7');
    const segmentsBefore = log.segmentCount;
    log.config = { ...small, retentionBytes: 450 };
    expect(log.applyRetention(0)).toBeGreaterThan(0);
    expect(log.segmentCount).toBeLessThan(segmentsBefore);
    expect(log.sizeInBytes).toBeLessThanOrEqual(450 + 400);
    expect(log.logStartOffset).toBeGreaterThan(7);
    log.config = { ...small, retentionMs: 10 };
    log.applyRetention(1_000_000);
    expect(log.segmentCount).toBe(1);
  });

  it('keeps logStartOffset and data across a clean restart', () => {
    const dir = tmp();
    const log = PartitionLog.open(dir, small, { cleanShutdown: true, now: 0 });
    for (let i = 0; i < 12; i++) log.append(batch([`v${i}`]), 0, 0);
    log.deleteRecordsBefore(5);
    log.close(0);
    const reopened = PartitionLog.open(dir, small, { cleanShutdown: true, now: 0 });
    expect(reopened.logStartOffset).toBe(5);
    expect(reopened.logEndOffset).toBe(12);
    expect(readAll(reopened)[0]).toBe('5:v5');
  });
});
