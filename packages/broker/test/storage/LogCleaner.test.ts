import { copyFileSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { buildRecordBatch, CompressionCodec } from '@fjord/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogCleaner } from '../../src/storage/LogCleaner.js';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/storage/LogConfig.js';
import { PartitionLog } from '../../src/storage/PartitionLog.js';
import { batchOf, readAll, simulateCrash, tempDir } from './helpers.js';

const COMPACT: LogConfig = {
  ...DEFAULT_LOG_CONFIG,
  segmentBytes: 600,
  indexIntervalBytes: 100,
  cleanupPolicy: { delete: false, compact: true },
  deleteRetentionMs: 1_000,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
};

const open = (dir = tempDir(), config: LogConfig = COMPACT) =>
  PartitionLog.open(dir, config, { cleanShutdown: true, now: 0 });

interface Written {
  offset: number;
  key: string;
  value: string | null;
}

function write(log: PartitionLog, key: string, value: string | null, compression?: number): Written {
  const r = log.append(batchOf([{ key, value }], { compression }), 0, 0);
  return { offset: r.firstOffset, key, value };
}

const show = (w: Written) => `${w.offset}:${w.key}=${w.value ?? '∅'}`;

/** What compaction up to `end` keeps: the last record per key below `end`, everything after. */
function expectedAfterClean(written: readonly Written[], end: number, dropTombstones: boolean): string[] {
  const latest = new Map<string, number>();
  for (const w of written) if (w.offset < end) latest.set(w.key, w.offset);
  return written
    .filter(
      (w) => w.offset >= end || (latest.get(w.key) === w.offset && !(dropTombstones && w.value === null)),
    )
    .map(show);
}

describe('LogCleaner', () => {
  it('keeps the latest record per key, preserves offsets and merges small segments', async () => {
    const log = open();
    const written: Written[] = [];
    for (let round = 0; round < 12; round++)
      for (const key of ['a', 'b', 'c', 'd']) written.push(write(log, key, `${key}${round}`));
    const segmentsBefore = log.segmentCount;
    const result = await new LogCleaner().clean(log, 10_000);
    expect(result).toBeDefined();
    expect(result!.endOffset).toBe(log.activeSegmentBaseOffset);
    expect(readAll(log)).toEqual(expectedAfterClean(written, result!.endOffset, false));
    expect(log.cleanerOffset).toBe(result!.endOffset);
    // Groups are sized by what segments held before cleaning (as in Kafka), so the small
    // cleaned segments merge on the next pass.
    await new LogCleaner().clean(log, 10_000, { force: true });
    expect(log.segmentCount).toBeLessThan(segmentsBefore);
    expect(readAll(log)).toEqual(expectedAfterClean(written, result!.endOffset, false));
    // The rewritten segments are valid on disk: a crash-recovery load reads the same.
    const expected = readAll(log);
    simulateCrash(log);
    const reopened = PartitionLog.open(log.dir, COMPACT, { cleanShutdown: false, now: 0 });
    expect(readAll(reopened)).toEqual(expected);
    expect(reopened.cleanerOffset).toBe(result!.endOffset);
  });

  it('matches a model of compaction for random keys, values, tombstones and codecs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            key: fc.constantFrom('k1', 'k2', 'k3', 'k4', 'k5', 'k6'),
            tombstone: fc.boolean(),
            codec: fc.constantFrom(CompressionCodec.none, CompressionCodec.gzip, CompressionCodec.lz4),
          }),
          { minLength: 1, maxLength: 60 },
        ),
        async (ops) => {
          const log = open();
          const written = ops.map((op, i) => write(log, op.key, op.tombstone ? null : `v${i}`, op.codec));
          const result = await new LogCleaner().clean(log, 10_000, { force: true });
          const end = result?.endOffset ?? 0;
          expect(readAll(log)).toEqual(expectedAfterClean(written, end, false));
          // Far past the delete horizon, a second pass removes the tombstones it kept.
          await new LogCleaner().clean(log, 1_000_000, { force: true });
          expect(readAll(log)).toEqual(expectedAfterClean(written, end, true));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('cleans in several passes when the offset map is small, never dropping a latest record', async () => {
    const log = open();
    const written: Written[] = [];
    for (let i = 0; i < 80; i++) written.push(write(log, `k${(i * 7) % 11}`, `v${i}`));
    const cleaner = new LogCleaner({ maxOffsetMapEntries: 3 });
    let passes = 0;
    while (log.cleanerOffset < log.activeSegmentBaseOffset) {
      const result = await cleaner.clean(log, 10_000, { force: true });
      expect(result).toBeDefined();
      passes++;
      // Whatever has been cleaned so far, every key still reads as its latest value.
      const latest = new Map<string, string>();
      for (const r of readAll(log)) latest.set(r.split(':')[1]!.split('=')[0]!, r);
      const model = new Map<string, string>();
      for (const w of written) model.set(w.key, show(w));
      expect(latest).toEqual(model);
    }
    expect(passes).toBeGreaterThan(1);
    expect(readAll(log)).toEqual(expectedAfterClean(written, log.cleanerOffset, false));
  });

  it('keeps tombstones for delete.retention.ms after their first cleaning, then drops them', async () => {
    const log = open();
    const cleaner = new LogCleaner();
    write(log, 'gone', 'x');
    write(log, 'kept', 'y');
    const tomb = write(log, 'gone', null);
    for (let i = 0; i < 8; i++) write(log, `filler${i}`, 'z'.repeat(60));
    await cleaner.clean(log, 10_000, { force: true });
    expect(readAll(log).slice(0, 2)).toEqual(['1:kept=y', `${tomb.offset}:gone=∅`]);
    // Not yet past the horizon (10_000 + 1_000): nothing is due, and a forced pass keeps it.
    expect(cleaner.cleanableState(log, 10_500)!.due).toBeUndefined();
    await cleaner.clean(log, 10_500, { force: true });
    expect(readAll(log)).toContain(`${tomb.offset}:gone=∅`);
    // Past it, the cleaner knows a pass is due even without new dirty data.
    expect(cleaner.cleanableState(log, 11_001)!.due).toBe('delete-horizon');
    await cleaner.clean(log, 11_001);
    expect(readAll(log).slice(0, 2)).toEqual(['1:kept=y', `3:filler0=${'z'.repeat(60)}`]);
  });

  it('cleans only when the dirty ratio, max.compaction.lag.ms or a horizon says so', async () => {
    const log = open();
    const cleaner = new LogCleaner();
    for (let i = 0; i < 30; i++) write(log, `k${i % 3}`, `v${i}`.repeat(20));
    expect(cleaner.cleanableState(log, 10_000)!.due).toBe('dirty-ratio');
    await cleaner.clean(log, 10_000);
    const state = cleaner.cleanableState(log, 10_000)!;
    expect(state.dirtyBytes).toBe(0);
    expect(state.due).toBeUndefined();
    expect(await cleaner.clean(log, 10_000)).toBeUndefined();
    for (let i = 0; i < 6; i++) write(log, `k${i % 3}`, `w${i}`.repeat(20));
    const later = cleaner.cleanableState(log, 10_000)!;
    expect(later.dirtyRatio).toBeGreaterThan(0);
    if (later.dirtyRatio < 0.5) expect(later.due).toBeUndefined();
    // max.compaction.lag.ms forces a pass once dirty records are old enough (timestamps are 1_000).
    log.config = { ...COMPACT, minCleanableDirtyRatio: 0.99, maxCompactionLagMs: 5_000 };
    expect(cleaner.cleanableState(log, 5_000)!.due).toBeUndefined();
    expect(cleaner.cleanableState(log, 7_000)!.due).toBe('max-compaction-lag');
    // Policies without compact are not the cleaner's business.
    log.config = { ...COMPACT, cleanupPolicy: { delete: true, compact: false } };
    expect(cleaner.cleanableState(log, 7_000)).toBeUndefined();
  });

  it('leaves segments younger than min.compaction.lag.ms and past the high watermark alone', async () => {
    const log = open(tempDir(), { ...COMPACT, minCompactionLagMs: 500 });
    const cleaner = new LogCleaner();
    for (let i = 0; i < 10; i++)
      log.append(batchOf([{ key: 'k', value: `old${i}`.repeat(10) }], { timestamp: 1_000 }), 0, 0);
    const youngFrom = log.logEndOffset;
    for (let i = 0; i < 10; i++)
      log.append(batchOf([{ key: 'k', value: `new${i}`.repeat(10) }], { timestamp: 9_800 }), 0, 0);
    const state = cleaner.cleanableState(log, 10_000)!;
    expect(state.firstUncleanableOffset).toBeLessThanOrEqual(youngFrom + 1);
    await cleaner.clean(log, 10_000, { force: true });
    const records = readAll(log);
    // Every young record survives; of the old ones only the last stays.
    expect(records.filter((r) => r.includes('=new'))).toHaveLength(10);
    expect(records.filter((r) => r.includes('=old')).length).toBeLessThanOrEqual(2);

    const bounded = open();
    for (let i = 0; i < 20; i++) write(bounded, 'k', `v${i}`.repeat(10));
    const hw = bounded.segmentBaseOffsets()[2]!;
    const s = cleaner.cleanableState(bounded, 10_000, hw)!;
    expect(s.firstUncleanableOffset).toBeLessThanOrEqual(hw);
    await cleaner.clean(bounded, 10_000, { force: true, upperBound: hw });
    expect(readAll(bounded).filter((r) => Number(r.split(':')[0]) >= hw)).toHaveLength(20 - hw);
  });

  it("keeps a producer's last batch (empty if need be) so its sequence state survives", async () => {
    const log = open();
    log.append(batchOf([{ key: 'a', value: 'from-producer' }], { producerId: 7n, baseSequence: 0 }), 0, 0);
    for (let i = 0; i < 10; i++) write(log, 'a', `v${i}`.repeat(20));
    await new LogCleaner().clean(log, 10_000, { force: true });
    const first = [...log.batches()][0]!;
    expect(first).toMatchObject({
      baseOffset: 0,
      lastOffset: 0,
      producerId: 7n,
      baseSequence: 0,
      recordCount: 0,
    });
    expect(readAll(log).some((r) => r.includes('from-producer'))).toBe(false);
  });

  it("applies Kafka's transaction rules: aborted records go, committed ones compact, emptied markers go after their horizon", async () => {
    const log = open();
    const sequences = new Map<bigint, number>();
    const txn = (producerId: bigint, records: [string, string][]) => {
      const baseSequence = sequences.get(producerId) ?? 0;
      sequences.set(producerId, baseSequence + records.length);
      log.append(
        buildRecordBatch({
          records: records.map(([k, v]) => ({ key: Buffer.from(k), value: Buffer.from(v) })),
          producerId,
          producerEpoch: 0,
          baseSequence,
          transactional: true,
          baseTimestamp: 1_000n,
        }),
        0,
        0,
      );
    };
    const marker = (producerId: bigint, commit: boolean) =>
      log.append(
        buildRecordBatch({
          records: [{ key: Buffer.from([0, 0, 0, commit ? 1 : 0]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }],
          producerId,
          producerEpoch: 0,
          baseSequence: -1,
          transactional: true,
          control: true,
          baseTimestamp: 1_000n,
        }),
        0,
        0,
      ).firstOffset;
    txn(1n, [
      ['a', 'committed-a'],
      ['b', 'committed-b'],
    ]);
    txn(2n, [['c', 'aborted-c']]);
    const abortMarker = marker(2n, false);
    const commitMarker = marker(1n, true);
    txn(2n, [['d', 'committed-d']]);
    marker(2n, true);
    write(log, 'a', 'plain-a');
    txn(3n, [['b', 'open-b']]); // no marker: an unfinished transaction supersedes nothing
    for (let i = 0; i < 12; i++) write(log, `filler-${i}`, 'x'.repeat(40));
    const data = () => readAll(log).filter((r) => !r.includes('\u0000'));
    const markers = () => [...log.batches()].filter((b) => b.isControl).map((b) => b.baseOffset);

    await new LogCleaner().clean(log, 10_000, { force: true });
    const kept = data().map((r) => r.split(':')[1]);
    expect(kept).not.toContain('c=aborted-c');
    expect(kept).not.toContain('a=committed-a'); // superseded by plain-a
    expect(kept).toEqual(expect.arrayContaining(['b=committed-b', 'd=committed-d', 'a=plain-a', 'b=open-b']));
    // The abort marker's transaction has no record left: stamped, kept until its horizon.
    expect(markers()).toContain(abortMarker);
    expect(markers()).toContain(commitMarker);

    await new LogCleaner().clean(log, 10_000 + COMPACT.deleteRetentionMs! + 1, { force: true });
    expect(markers()).not.toContain(abortMarker);
    // committed-b is still there, so its marker stays.
    expect(markers()).toContain(commitMarker);
    const expected = data();
    simulateCrash(log);
    const reopened = PartitionLog.open(log.dir, COMPACT, { cleanShutdown: false, now: 0 });
    expect(readAll(reopened).filter((r) => !r.includes('\u0000'))).toEqual(expected);
  });

  it('gives up when the log is truncated under it, leaving no cleaned files', async () => {
    const log = open();
    const written: Written[] = [];
    for (let i = 0; i < 40; i++) written.push(write(log, `k${i % 4}`, `v${i}`.repeat(10)));
    const cleaner = new LogCleaner({ yieldEveryBytes: 1 });
    const pass = cleaner.clean(log, 10_000, { force: true });
    log.truncateTo(30);
    expect(await pass).toBeUndefined();
    expect(readdirSync(log.dir).filter((f) => f.includes('.cleaned') || f.includes('.swap'))).toEqual([]);
    expect(readAll(log)).toEqual(written.slice(0, 30).map(show));
  });
});

describe('LogCleaner crash safety', () => {
  /** A log, a copy of its files taken before cleaning, and the cleaned original. */
  async function cleanedPair() {
    const dir = tempDir();
    const log = open(dir);
    for (let i = 0; i < 40; i++) write(log, `k${i % 5}`, `v${i}`.repeat(8));
    log.close(0);
    const before = tempDir();
    for (const f of readdirSync(dir)) copyFileSync(join(dir, f), join(before, f));
    const cleaned = open(dir);
    const original = readAll(cleaned);
    const result = (await new LogCleaner().clean(cleaned, 10_000, { force: true }))!;
    cleaned.close(0);
    const cleanedSegments = readdirSync(dir).filter(
      (f) => f.endsWith('.log') && Number(f.slice(0, 20)) < result.endOffset,
    );
    return { dir, before, original, compacted: readAll(open(dir)), cleanedSegments };
  }

  it('ignores a half-written .cleaned segment', async () => {
    const { dir, before, original, cleanedSegments } = await cleanedPair();
    for (const f of cleanedSegments) copyFileSync(join(dir, f), join(before, `${f}.cleaned`));
    const recovered = PartitionLog.open(before, COMPACT, { cleanShutdown: false, now: 0 });
    expect(readAll(recovered)).toEqual(original);
    expect(readdirSync(before).some((f) => f.endsWith('.cleaned'))).toBe(false);
  });

  it('finishes a swap that was committed (.swap present, old segments still there)', async () => {
    const { dir, before, compacted, cleanedSegments } = await cleanedPair();
    for (const f of cleanedSegments) {
      copyFileSync(join(dir, f), join(before, `${f}.swap`));
      copyFileSync(
        join(dir, f.replace('.log', '.index')),
        join(before, `${f.replace('.log', '.index')}.swap`),
      );
    }
    const recovered = PartitionLog.open(before, COMPACT, { cleanShutdown: false, now: 0 });
    expect(readAll(recovered)).toEqual(compacted);
    expect(readdirSync(before).some((f) => f.endsWith('.swap'))).toBe(false);
  });

  it('finishes a swap whose old segments were already renamed to .deleted', async () => {
    const { dir, before, compacted, cleanedSegments } = await cleanedPair();
    const covered = readdirSync(before).filter((f) => /^\d{20}\.(log|index|timeindex)$/.test(f));
    const lastBase = Math.max(...cleanedSegments.map((f) => Number(f.slice(0, 20))));
    const firstLive = readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .map((f) => Number(f.slice(0, 20)))
      .find((b) => b > lastBase)!;
    for (const f of covered)
      if (Number(f.slice(0, 20)) < firstLive) renameSync(join(before, f), join(before, `${f}.deleted`));
    for (const f of cleanedSegments) copyFileSync(join(dir, f), join(before, `${f}.swap`));
    const recovered = PartitionLog.open(before, COMPACT, { cleanShutdown: false, now: 0 });
    expect(readAll(recovered)).toEqual(compacted);
  });
});
