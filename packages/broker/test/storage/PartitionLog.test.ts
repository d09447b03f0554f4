import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompressionCodec } from '@fjord/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOffsetError } from '../../src/storage/errors.js';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/storage/LogConfig.js';
import { OffsetOutOfRangeError, PartitionLog } from '../../src/storage/PartitionLog.js';
import { ReadBufferPool } from '../../src/storage/ReadBufferPool.js';
import { batchOf, readAll, recordsOf, SMALL_LOG, simulateCrash, tempDir } from './helpers.js';

const open = (config: LogConfig = SMALL_LOG, dir = tempDir()) =>
  PartitionLog.open(dir, config, { cleanShutdown: true, now: 0 });

describe('PartitionLog append and read', () => {
  it('assigns offsets, rolls segments and reads back across them', () => {
    const log = open();
    const expected: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = log.append(batchOf([`a${i}`, `b${i}`]), 0, i);
      expect(r).toEqual({ firstOffset: i * 2, lastOffset: i * 2 + 1, logAppendTime: -1 });
      expected.push(`${i * 2}:a${i}`, `${i * 2 + 1}:b${i}`);
    }
    expect(log.segmentCount).toBeGreaterThan(3);
    expect(log.logEndOffset).toBe(60);
    expect(readAll(log)).toEqual(expected);
    // A read starting inside a batch returns that whole batch first.
    expect(recordsOf(log.read(13, 1))).toEqual(['12:a6', '13:b6']);
    expect(() => log.read(61, 100)).toThrow(OffsetOutOfRangeError);
    expect(log.read(60, 100)).toBeUndefined();
  });

  it('appends a buffer holding several batches in one go', () => {
    const log = open(DEFAULT_LOG_CONFIG);
    const data = Buffer.concat([batchOf(['x', 'y']), batchOf(['z']), batchOf(['w', 'v', 'u'])]);
    expect(log.append(data, 3, 0)).toEqual({ firstOffset: 0, lastOffset: 5, logAppendTime: -1 });
    expect(readAll(log)).toEqual(['0:x', '1:y', '2:z', '3:w', '4:v', '5:u']);
    expect(() => log.append(data.subarray(0, data.length - 1), 3, 0)).toThrow(/whole v2 batches/);
  });

  it('stops reads at the high watermark bound and respects maxBytes (KIP-74 for the first batch)', () => {
    const log = open(DEFAULT_LOG_CONFIG);
    for (let i = 0; i < 5; i++) log.append(batchOf([`v${i}`]), 0, 0);
    expect(recordsOf(log.read(0, 1_000_000, 3))).toEqual(['0:v0', '1:v1', '2:v2']);
    expect(recordsOf(log.read(0, 1))).toEqual(['0:v0']);
    expect(log.read(3, 1_000, 3)).toBeUndefined();
  });

  it('reads exactly what a model of the appended batches predicts (random sizes, rolls, bounds)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ records: fc.integer({ min: 1, max: 5 }), size: fc.integer({ min: 0, max: 120 }) }),
          {
            minLength: 1,
            maxLength: 50,
          },
        ),
        fc.integer({ min: 100, max: 2_000 }),
        fc.integer({ min: 0, max: 500 }),
        fc.array(fc.record({ at: fc.nat(), maxBytes: fc.integer({ min: 1, max: 4_000 }), hw: fc.nat() }), {
          minLength: 1,
          maxLength: 15,
        }),
        (specs, segmentBytes, indexIntervalBytes, reads) => {
          const log = open({ ...DEFAULT_LOG_CONFIG, segmentBytes, indexIntervalBytes });
          const batches: { bytes: Buffer; base: number; last: number }[] = [];
          for (const spec of specs) {
            const b = batchOf(Array.from({ length: spec.records }, () => 'r'.repeat(spec.size)));
            const r = log.append(b, 0, 0);
            batches.push({ bytes: b, base: r.firstOffset, last: r.lastOffset });
          }
          const bases = log.segmentBaseOffsets();
          const end = log.logEndOffset;
          for (const { at, maxBytes, hw } of reads) {
            const offset = at % end;
            const bound = offset + 1 + (hw % (end - offset));
            // The model: whole batches of the segment holding `offset`, from the batch holding
            // it, within maxBytes (first batch always), none starting at or past the bound.
            const segBase = bases.filter((b) => b <= offset).pop()!;
            const segEnd = bases.find((b) => b > segBase) ?? Number.POSITIVE_INFINITY;
            const candidates = batches.filter(
              (b) => b.base >= segBase && b.base < segEnd && b.last >= offset && b.last < bound,
            );
            const expected: Buffer[] = [];
            let total = 0;
            for (const b of candidates) {
              if (expected.length > 0 && total + b.bytes.length > maxBytes) break;
              expected.push(b.bytes);
              total += b.bytes.length;
            }
            const got = log.read(offset, maxBytes, bound);
            if (expected.length === 0) expect(got).toBeUndefined();
            else expect(got!.equals(Buffer.concat(expected))).toBe(true);
          }
          log.close(0);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('stamps LogAppendTime and keeps the CRC valid', () => {
    const log = open({ ...DEFAULT_LOG_CONFIG, logAppendTime: true });
    const r = log.append(batchOf(['a'], { timestamp: 5 }), 0, 123_456);
    expect(r.logAppendTime).toBe(123_456);
    expect(log.offsetForTimestamp(123_456)).toEqual({ offset: 0, timestamp: 123_456 });
    log.close(0);
    const reopened = PartitionLog.open(log.dir, DEFAULT_LOG_CONFIG, { cleanShutdown: false, now: 0 });
    expect(reopened.logEndOffset).toBe(1); // recovery checked the CRC
  });
});

describe('PartitionLog reads for fetches', () => {
  const fill = (log: PartitionLog, n: number) => {
    for (let i = 0; i < n; i++) log.append(batchOf([`v${i}`.padEnd(40, '.')]), 0, 0);
  };

  it("reads the active segment's tail synchronously and everything else off the event loop, the same bytes", async () => {
    const log = open();
    fill(log, 40);
    log.hotTailBytes = 150;
    const end = log.logEndOffset;
    const [oldSegmentBase, activeBase] = [0, log.activeSegmentBaseOffset];
    // The tail of the active segment: synchronous.
    const hot = log.readForFetch(end - 1, 10_000, end);
    expect(hot).toBeInstanceOf(Buffer);
    expect((hot as Buffer).equals(log.read(end - 1, 10_000, end)!)).toBe(true);
    // An older segment, and the start of the active one when it is longer than the hot tail.
    log.hotTailBytes = 0;
    for (const offset of [oldSegmentBase, activeBase]) {
      const cold = log.readForFetch(offset, 10_000, end);
      expect(cold).toBeInstanceOf(Promise);
      expect((await cold)!.equals(log.read(offset, 10_000, end)!)).toBe(true);
    }
    // Bounds hold as in read: maxBytes (first batch whole), the bound, a read crossing segments.
    for (const [offset, maxBytes, bound] of [
      [0, 1, end],
      [3, 10_000, 5],
      [activeBase - 1, 10_000, end],
      [end, 10_000, end],
    ] as const) {
      const expected = log.read(offset, maxBytes, bound);
      const got = await log.readForFetch(offset, maxBytes, bound);
      if (expected === undefined) expect(got).toBeUndefined();
      else expect(got!.equals(expected)).toBe(true);
    }
    await expect(Promise.resolve().then(() => log.readForFetch(end + 1, 100, end))).rejects.toThrow(
      OffsetOutOfRangeError,
    );
    log.close(0);
  });

  it("finishes a read off the event loop whose segment is deleted meanwhile, with that segment's bytes", async () => {
    const log = open();
    fill(log, 40);
    log.hotTailBytes = 0;
    const expected = log.read(0, 10_000, log.logEndOffset)!;
    const pending = log.readForFetch(0, 10_000, log.logEndOffset);
    // Retention removes the segment while the read is in the thread pool: its descriptor must
    // stay open (a number closed and reused by the next file opened would read that file).
    log.deleteRecordsBefore(log.activeSegmentBaseOffset);
    expect(log.segmentCount).toBe(1);
    fill(log, 40); // opens new segment files, which would take a freed descriptor number
    expect((await pending)!.equals(expected)).toBe(true);
    log.close(0);
  });

  it("reads into the pool's buffers when given one", async () => {
    const log = open(DEFAULT_LOG_CONFIG);
    for (let i = 0; i < 100; i++) log.append(batchOf(['x'.repeat(1_000)]), 0, 0);
    const pool = new ReadBufferPool();
    const sync = log.readForFetch(0, 1 << 20, log.logEndOffset, pool) as Buffer;
    pool.give(sync);
    expect(pool.idleBytes).toBe(sync.buffer.byteLength);
    log.hotTailBytes = 0;
    const cold = (await log.readForFetch(0, 1 << 20, log.logEndOffset, pool))!;
    expect(cold.buffer).toBe(sync.buffer); // the same memory, lent again
    expect(pool.idleBytes).toBe(0);
    log.close(0);
  });
});

describe('PartitionLog segment roll', () => {
  it('rolls by segment.ms using record timestamps, and when the index is full', () => {
    const log = open({ ...DEFAULT_LOG_CONFIG, segmentMs: 1_000 });
    log.append(batchOf(['a'], { timestamp: 10_000 }), 0, 0);
    log.append(batchOf(['b'], { timestamp: 10_900 }), 0, 0);
    expect(log.segmentCount).toBe(1);
    log.append(batchOf(['c'], { timestamp: 11_001 }), 0, 0);
    expect(log.segmentBaseOffsets()).toEqual([0, 2]);

    const tiny = open({ ...DEFAULT_LOG_CONFIG, indexIntervalBytes: 0, segmentIndexBytes: 24 });
    for (let i = 0; i < 10; i++) tiny.append(batchOf([`v${i}`]), 0, 0);
    expect(tiny.segmentCount).toBeGreaterThan(2);
    expect(readAll(tiny)).toHaveLength(10);
  });

  it('fsyncs and checkpoints what it rolls past, in the background', async () => {
    const log = open();
    for (let i = 0; i < 10; i++) log.append(batchOf([`v${i}`.repeat(30)]), 0, 0);
    const bases = log.segmentBaseOffsets();
    expect(bases.length).toBeGreaterThan(2);
    expect(log.flushedOffset).toBe(0);
    await log.flushesSettled();
    expect(log.flushedOffset).toBe(bases[bases.length - 1]);
    const checkpoint = readFileSync(join(log.dir, 'partition-checkpoint'), 'utf8');
    expect(checkpoint).toContain(`recovery-point ${bases[bases.length - 1]}`);
  });
});

describe('PartitionLog timestamps', () => {
  it('finds the first record at or after a timestamp, inside batches too', () => {
    const log = open();
    for (let i = 0; i < 20; i++)
      log.append(
        batchOf([
          { value: `t${i}a`, timestamp: 1_000 + i * 10 },
          { value: `t${i}b`, timestamp: 1_005 + i * 10 },
        ]),
        0,
        0,
      );
    expect(log.offsetForTimestamp(1_095)).toEqual({ offset: 19, timestamp: 1_095 });
    expect(log.offsetForTimestamp(1_096)).toEqual({ offset: 20, timestamp: 1_100 });
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: 1_000 });
    expect(log.offsetForTimestamp(5_000)).toBeUndefined();
    // Bounded by the high watermark, and never before the log start.
    expect(log.offsetForTimestamp(1_100, 20)).toBeUndefined();
    log.deleteRecordsBefore(7);
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 7, timestamp: 1_035 });
    expect(log.maxTimestamp()).toEqual({ timestamp: 1_195, offset: 39 });
    expect(log.findBatchByTimestamp(1_100)!.location.baseOffset).toBe(20);
  });

  it('agrees with a linear scan for random, unordered timestamps and compressed batches', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 4 }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.array(fc.integer({ min: -10, max: 10_010 }), { minLength: 1, maxLength: 10 }),
        fc.boolean(),
        (batchTimestamps, targets, compressed) => {
          const log = open({ ...DEFAULT_LOG_CONFIG, segmentBytes: 600, indexIntervalBytes: 90 });
          const all: { offset: number; ts: number }[] = [];
          for (const tss of batchTimestamps) {
            const r = log.append(
              batchOf(
                tss.map((ts) => ({ value: 'v', timestamp: ts })),
                { timestamp: Math.min(...tss), compression: compressed ? CompressionCodec.gzip : undefined },
              ),
              0,
              0,
            );
            for (const [j, ts] of tss.entries()) all.push({ offset: r.firstOffset + j, ts });
          }
          for (const target of targets) {
            const hit = all.find((r) => r.ts >= target);
            expect(log.offsetForTimestamp(target)).toEqual(
              hit ? { offset: hit.offset, timestamp: hit.ts } : undefined,
            );
          }
          const max = Math.max(...all.map((r) => r.ts));
          expect(log.maxTimestamp()).toEqual({
            timestamp: max,
            offset: all.find((r) => r.ts === max)!.offset,
          });
          log.close(0);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('PartitionLog truncation, DeleteRecords and retention', () => {
  it('truncates to an offset and forgets later leader epochs', () => {
    const log = open();
    for (let i = 0; i < 30; i++) log.append(batchOf([`v${i}`]), i < 20 ? 0 : 1, 0);
    log.truncateTo(25);
    expect(log.logEndOffset).toBe(25);
    expect(log.leaderEpochs.endOffsetFor(0, log.logEndOffset)).toEqual({ epoch: 0, endOffset: 20 });
    expect(log.leaderEpochs.endOffsetFor(1, log.logEndOffset)).toEqual({ epoch: 1, endOffset: 25 });
    log.truncateTo(18);
    expect(log.leaderEpochs.latestEpoch).toBe(0);
    expect(readAll(log)).toEqual(Array.from({ length: 18 }, (_, i) => `${i}:v${i}`));
    log.append(batchOf(['new']), 2, 0);
    expect(readAll(log, 17)).toEqual(['17:v17', '18:new']);
    // Below the first segment: start over, empty, at that offset.
    log.deleteRecordsBefore(10);
    log.truncateTo(3);
    expect([log.logStartOffset, log.logEndOffset, log.segmentCount]).toEqual([3, 3, 1]);
    expect(log.leaderEpochs.all()).toEqual([]);
  });

  it('forgets an epoch started at the log end on a truncation to the log end (a leader demoted before it appended)', () => {
    const log = open();
    for (let i = 0; i < 5; i++) log.append(batchOf([`v${i}`]), 4, 0);
    log.leaderEpochs.assign(5, log.logEndOffset); // became leader at epoch 5, appended nothing
    log.truncateTo(5); // the new leader's divergence answer: epoch 4 ends at 5
    expect(log.logEndOffset).toBe(5);
    expect(log.leaderEpochs.latestEpoch).toBe(4);
    expect(log.leaderEpochs.endOffsetFor(4, log.logEndOffset)).toEqual({ epoch: 4, endOffset: 5 });
  });

  it('DeleteRecords moves the log start, drops whole segments below it, and survives a restart', () => {
    const dir = tempDir();
    const log = open(SMALL_LOG, dir);
    for (let i = 0; i < 30; i++) log.append(batchOf([`v${i}`]), 0, 0);
    const before = log.segmentCount;
    expect(log.deleteRecordsBefore(13)).toBe(13);
    expect(log.segmentCount).toBeLessThan(before);
    expect(log.segmentBaseOffsets()[0]).toBeLessThanOrEqual(13);
    expect(() => log.read(12, 100)).toThrow(OffsetOutOfRangeError);
    expect(recordsOf(log.read(13, 1))).toEqual(['13:v13']);
    expect(log.deleteRecordsBefore(5)).toBe(13);
    expect(() => log.deleteRecordsBefore(31)).toThrow(OffsetOutOfRangeError);
    // Not closed: the log start was checkpointed when it moved.
    simulateCrash(log);
    const reopened = PartitionLog.open(dir, SMALL_LOG, { cleanShutdown: false, now: 0 });
    expect(reopened.logStartOffset).toBe(13);
    expect(readAll(reopened)[0]).toBe('13:v13');
  });

  it('applies retention by size and by time, never the active segment nor past the bound', () => {
    const log = open();
    for (let i = 0; i < 30; i++) log.append(batchOf([`v${i}`], { timestamp: 1_000 + i }), 0, 0);
    const segments = log.segmentCount;
    log.config = { ...SMALL_LOG, retentionBytes: 450 };
    expect(log.applyRetention(2_000)).toBeGreaterThan(0);
    expect(log.segmentCount).toBeLessThan(segments);
    expect(log.sizeInBytes).toBeLessThanOrEqual(450 + 400);
    expect(log.logStartOffset).toBe(log.segmentBaseOffsets()[0]);
    // Time: everything older than 10 ms at t=1_000_000, but only below the high watermark.
    log.config = { ...SMALL_LOG, retentionMs: 10 };
    for (let i = 30; i < 50; i++) log.append(batchOf([`v${i}`], { timestamp: 1_000 + i }), 0, 0);
    const bases = log.segmentBaseOffsets();
    expect(bases.length).toBeGreaterThan(3);
    log.applyRetention(1_000_000, bases[2]!);
    expect(log.segmentBaseOffsets()[0]).toBe(bases[2]);
    log.applyRetention(1_000_000);
    expect(log.segmentCount).toBe(1);
    // compact-only topics are not subject to retention.
    const compacted = open({ ...SMALL_LOG, retentionMs: 0, cleanupPolicy: { delete: false, compact: true } });
    for (let i = 0; i < 10; i++) compacted.append(batchOf([{ key: 'k', value: `v${i}` }]), 0, 0);
    expect(compacted.applyRetention(1e12)).toBe(0);
  });

  it('deletes the oldest segments for the disk budget as retention does, never the active one', () => {
    const dir = tempDir();
    const log = open(SMALL_LOG, dir);
    for (let i = 0; i < 30; i++) log.append(batchOf([`v${i}`], { timestamp: 1_000 + i }), i < 15 ? 4 : 5, 0);
    const bases = log.segmentBaseOffsets();
    const deletable = log.deletableSegments(bases[3]!);
    expect(deletable).toHaveLength(3);
    expect(deletable.map((s) => s.largestTimestamp)).toEqual(
      [...deletable.map((s) => s.largestTimestamp)].sort(),
    );
    // Asked for more than the bound allows: only what lies wholly below it goes.
    expect(log.deleteOldestSegments(5, bases[3]!)).toBe(3);
    expect(log.logStartOffset).toBe(bases[3]);
    expect(log.leaderEpochs.all()[0]!.startOffset).toBe(bases[3]);
    expect(readAll(log)[0]).toBe(`${bases[3]}:v${bases[3]}`);
    // The new log start was checkpointed when it moved, as retention's is.
    simulateCrash(log);
    const reopened = PartitionLog.open(dir, SMALL_LOG, { cleanShutdown: false, now: 0 });
    expect(reopened.logStartOffset).toBe(bases[3]);
    expect(reopened.deleteOldestSegments(1_000)).toBe(bases.length - 4);
    expect(reopened.segmentCount).toBe(1);
    expect(reopened.deletableSegments()).toEqual([]);
    expect(reopened.logEndOffset).toBe(30);
    const compacted = open({ ...SMALL_LOG, cleanupPolicy: { delete: false, compact: true } });
    for (let i = 0; i < 10; i++) compacted.append(batchOf([{ key: 'k', value: `v${i}` }]), 0, 0);
    expect(compacted.deletableSegments()).toEqual([]);
    expect(compacted.deleteOldestSegments(5)).toBe(0);
  });

  it('keeps logStartOffset, epochs and data across a clean restart', () => {
    const dir = tempDir();
    const log = open(SMALL_LOG, dir);
    for (let i = 0; i < 12; i++) log.append(batchOf([`v${i}`]), i < 6 ? 4 : 5, 0);
    log.deleteRecordsBefore(5);
    log.close(0);
    const reopened = PartitionLog.open(dir, SMALL_LOG, { cleanShutdown: true, now: 0 });
    expect(reopened.logStartOffset).toBe(5);
    expect(reopened.logEndOffset).toBe(12);
    expect(readAll(reopened)[0]).toBe('5:v5');
    expect(reopened.leaderEpochs.all()).toEqual([
      { epoch: 4, startOffset: 5 },
      { epoch: 5, startOffset: 6 },
    ]);
    expect(readFileSync(join(dir, 'leader-epoch-checkpoint'), 'utf8')).toBe('0\n2\n4 5\n5 6\n');
  });
});

describe('PartitionLog replication support', () => {
  it('appends as a follower with the leader offsets and epochs, gaps allowed', () => {
    const log = open(DEFAULT_LOG_CONFIG);
    const a = batchOf(['a', 'b']);
    a.writeBigInt64BE(0n, 0);
    a.writeInt32BE(3, 12);
    const b = batchOf(['c']);
    b.writeBigInt64BE(10n, 0);
    b.writeInt32BE(5, 12);
    expect(log.appendAsFollower(Buffer.concat([a, b]), 0)).toEqual({
      firstOffset: 0,
      lastOffset: 10,
      logAppendTime: -1,
    });
    expect(log.logEndOffset).toBe(11);
    expect(log.leaderEpochs.all()).toEqual([
      { epoch: 3, startOffset: 0 },
      { epoch: 5, startOffset: 10 },
    ]);
    expect(recordsOf(log.read(5, 1_000))).toEqual(['10:c']);
    expect(() => log.appendAsFollower(b, 0)).toThrow(InvalidOffsetError);
  });

  it("answers OffsetForLeaderEpoch as Kafka's LeaderEpochFileCache does", () => {
    const log = open(DEFAULT_LOG_CONFIG);
    for (const [epoch, n] of [
      [2, 3],
      [4, 2],
      [7, 1],
    ] as const)
      for (let i = 0; i < n; i++) log.append(batchOf(['x']), epoch, 0);
    const e = (epoch: number) => log.leaderEpochs.endOffsetFor(epoch, log.logEndOffset);
    expect(e(7)).toEqual({ epoch: 7, endOffset: 6 });
    expect(e(5)).toEqual({ epoch: 4, endOffset: 5 });
    expect(e(4)).toEqual({ epoch: 4, endOffset: 5 });
    expect(e(1)).toEqual({ epoch: 1, endOffset: 0 });
    expect(e(9)).toEqual({ epoch: -1, endOffset: -1 });
    expect(e(-1)).toEqual({ epoch: -1, endOffset: -1 });
    expect(log.leaderEpochs.epochForOffset(4)).toBe(4);
  });
});

describe('PartitionLog flush policy', () => {
  it('fsyncs after flush.messages records and on flush.ms', () => {
    const log = open({ ...DEFAULT_LOG_CONFIG, flushMessages: 3, flushMs: 1_000 });
    log.append(batchOf(['a', 'b']), 0, 0);
    expect(log.flushedOffset).toBe(0);
    log.append(batchOf(['c']), 0, 0);
    expect(log.flushedOffset).toBe(3);
    log.append(batchOf(['d']), 0, 10);
    log.maybeFlush(500);
    expect(log.flushedOffset).toBe(3);
    log.maybeFlush(1_000);
    expect(log.flushedOffset).toBe(4);
    log.append(batchOf(['e']), 0, 1_100);
    log.flush();
    expect(log.flushedOffset).toBe(5);
  });

  it('keeps only the expected files in the partition dir', () => {
    const log = open();
    for (let i = 0; i < 10; i++) log.append(batchOf([`v${i}`.repeat(20)]), 0, 0);
    log.close(0);
    const names = readdirSync(log.dir);
    expect(names.filter((n) => !/^\d{20}\.(log|index|timeindex)$/.test(n)).sort()).toEqual([
      'leader-epoch-checkpoint',
      'partition-checkpoint',
    ]);
  });
});
