import { utimesSync } from 'node:fs';
import {
  compactBatch,
  deleteHorizonOf,
  markerWithDeleteHorizon,
  parseBatchRecords,
} from './BatchCompactor.js';
import type { BatchLocation } from './BatchScanner.js';
import type { LogSegment } from './LogSegment.js';
import type { PartitionLog } from './PartitionLog.js';
import { isCommitMarkerKey, TransactionFates } from './TransactionFates.js';

export interface LogCleanerOptions {
  /**
   * Distinct keys the offset map may hold (Kafka's dedupe buffer). A cleaning pass covers as
   * many dirty segments as fit, at least one.
   */
  readonly maxOffsetMapEntries?: number;
  /** Bytes of batches processed between yields to the event loop. */
  readonly yieldEveryBytes?: number;
}

/** How dirty a log is and which part of it a pass may clean. */
export interface CleanableState {
  /** Offsets before this were compacted at least once. */
  readonly firstDirtyOffset: number;
  /** Segments from this base on are never cleaned: the active one, too-young ones, past the bound. */
  readonly firstUncleanableOffset: number;
  readonly cleanBytes: number;
  readonly dirtyBytes: number;
  /** dirty / (clean + dirty) bytes, compared with min.cleanable.dirty.ratio. */
  readonly dirtyRatio: number;
  /** Why cleaning is due, or undefined when it is not. */
  readonly due: 'dirty-ratio' | 'max-compaction-lag' | 'delete-horizon' | undefined;
}

export interface CleanResult {
  readonly firstDirtyOffset: number;
  /** Offsets before this are now compacted (the next pass's first dirty offset). */
  readonly endOffset: number;
  readonly segmentsBefore: number;
  readonly segmentsAfter: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly recordsRemoved: number;
  readonly tombstonesRemoved: number;
}

/** A pass stopped because the log changed under it (truncation, retention, deletion). */
class CleaningAborted extends Error {}

const INT32_MAX = 2 ** 31 - 1;

/**
 * Log compaction for `cleanup.policy=compact` (Kafka's LogCleaner): keeps the latest record
 * per key in the inactive segments, preserving offsets. A pass builds a key → latest offset map
 * over the dirty segments, then rewrites every segment from the log start up to the end of the
 * map, merging neighbours into groups no larger than segment.bytes. Each group becomes a
 * `.cleaned` segment, swapped in crash-safely by PartitionLog.replaceSegments.
 *
 * Transactions by Kafka's rules: records of aborted transactions are removed, those of committed
 * ones compact like any other, and a transaction without its marker yet is left whole (the caller
 * bounds cleaning by the last stable offset as well). A marker whose transaction has no record
 * left is stamped with a delete horizon and removed by a pass after it, unless it is its
 * producer's last batch (kept for sequence state). Keyless records are dropped, as Kafka's
 * cleaner does.
 */
export class LogCleaner {
  private readonly maxEntries: number;
  private readonly yieldEveryBytes: number;
  /** Earliest delete horizon of tombstones still in each log (known from our own passes). */
  private readonly deleteHorizons = new WeakMap<PartitionLog, number>();

  constructor(options: LogCleanerOptions = {}) {
    this.maxEntries = options.maxOffsetMapEntries ?? 500_000;
    this.yieldEveryBytes = options.yieldEveryBytes ?? 4 * 1024 * 1024;
  }

  /**
   * Where the log stands. `upperBound` caps what may be cleaned (the high watermark: records
   * not yet replicated stay as they are); min.compaction.lag.ms keeps young segments out.
   */
  cleanableState(log: PartitionLog, now: number, upperBound = log.logEndOffset): CleanableState | undefined {
    const config = log.effectiveConfig;
    if (!config.cleanupPolicy.compact || log.isOffline) return undefined;
    const segments = log.segmentList;
    const firstDirtyOffset = Math.max(log.cleanerOffset, log.logStartOffset);
    let firstUncleanableOffset = log.activeSegmentBaseOffset;
    for (let i = 0; i < segments.length - 1; i++) {
      const s = segments[i]!;
      const tooYoung =
        s.baseOffset >= firstDirtyOffset && s.largestTimestamp > now - config.minCompactionLagMs;
      if (tooYoung || segments[i + 1]!.baseOffset > upperBound) {
        firstUncleanableOffset = s.baseOffset;
        break;
      }
    }
    let cleanBytes = 0;
    let dirtyBytes = 0;
    let earliestDirty: LogSegment | undefined;
    for (const s of segments) {
      if (s.baseOffset >= firstUncleanableOffset) break;
      if (s.nextOffset <= firstDirtyOffset) cleanBytes += s.size;
      else {
        dirtyBytes += s.size;
        earliestDirty ??= s;
      }
    }
    const total = cleanBytes + dirtyBytes;
    const dirtyRatio = total === 0 ? 0 : dirtyBytes / total;
    const horizon = this.deleteHorizons.get(log);
    let due: CleanableState['due'];
    if (dirtyBytes > 0 && dirtyRatio >= config.minCleanableDirtyRatio) due = 'dirty-ratio';
    else if (
      earliestDirty &&
      earliestDirty.rollingBaseTimestamp() >= 0 &&
      now - earliestDirty.rollingBaseTimestamp() > config.maxCompactionLagMs
    )
      due = 'max-compaction-lag';
    else if (horizon !== undefined && horizon <= now && total > 0) due = 'delete-horizon';
    return { firstDirtyOffset, firstUncleanableOffset, cleanBytes, dirtyBytes, dirtyRatio, due };
  }

  /** Kafka's grabFilthiestCompactedLog: cleans the due log with the highest dirty ratio. */
  async cleanFilthiest(
    logs: Iterable<PartitionLog>,
    now: number,
    upperBound?: (log: PartitionLog) => number,
  ): Promise<{ log: PartitionLog; result: CleanResult } | undefined> {
    let best: { log: PartitionLog; ratio: number } | undefined;
    for (const log of logs) {
      const state = this.cleanableState(log, now, upperBound?.(log));
      if (!state?.due) continue;
      if (!best || state.dirtyRatio > best.ratio) best = { log, ratio: state.dirtyRatio };
    }
    if (!best) return undefined;
    const result = await this.clean(best.log, now, { upperBound: upperBound?.(best.log) });
    return result ? { log: best.log, result } : undefined;
  }

  /**
   * Cleans `log` if cleaning is due (or always with `force`). Resolves undefined when there was
   * nothing to do or the log changed under the pass (it then leaves no trace but `.cleaned`
   * files, which are removed right away or at the next load).
   */
  async clean(
    log: PartitionLog,
    now: number,
    options: { force?: boolean; upperBound?: number } = {},
  ): Promise<CleanResult | undefined> {
    const state = this.cleanableState(log, now, options.upperBound);
    if (!state || (!state.due && !options.force)) return undefined;
    if (state.firstUncleanableOffset <= log.logStartOffset) return undefined;
    try {
      return await this.cleanPass(log, state, now);
    } catch (err) {
      if (err instanceof CleaningAborted) return undefined;
      throw err;
    }
  }

  private async cleanPass(log: PartitionLog, state: CleanableState, now: number): Promise<CleanResult> {
    let version = log.structureVersion;
    const checkUnchanged = () => {
      if (log.structureVersion !== version || log.isOffline) throw new CleaningAborted();
    };
    const segmentsBefore = log.segmentCount;
    const bytesBefore = log.sizeInBytes;
    const { lastBatchOfProducer, fates } = await this.scanProducers(log, checkUnchanged);
    const { offsets, endOffset } = await this.buildOffsetMap(log, state, fates, checkUnchanged);

    const groups = groupSegments(
      log.segmentList.filter((s) => s.nextOffset <= endOffset && s.baseOffset < endOffset),
      log.effectiveConfig.segmentBytes,
    );
    let recordsRemoved = 0;
    let tombstonesRemoved = 0;
    let earliestHorizon = Number.POSITIVE_INFINITY;
    const config = log.effectiveConfig;
    /** Producers whose current transaction kept a batch in this pass (its marker must stay). */
    const transactionKeptData = new Set<bigint>();
    for (const group of groups) {
      checkUnchanged();
      const last = group[group.length - 1]!;
      const cleaned = log.createCleanedSegment(group[0]!.baseOffset, now);
      try {
        const pending = new OutputBuffer((data) => log.withStorageGuard(() => cleaned.append(data, now)));
        let sinceYield = 0;
        for (const segment of group) {
          for (const batch of guardedBatches(log, segment)) {
            const bytes = log.withStorageGuard(() => segment.readBatch(batch));
            const isGroupEnd = segment === last && batch.lastOffset === last.nextOffset - 1;
            const lastOfProducer =
              batch.producerId >= 0n && lastBatchOfProducer.get(batch.producerId) === batch.baseOffset;
            const fate = batch.isTransactional ? fates.fateOf(batch.producerId, batch.baseOffset) : undefined;
            if (batch.isControl) {
              const hadData = transactionKeptData.delete(batch.producerId);
              const horizon = deleteHorizonOf(bytes);
              if (hadData || lastOfProducer || isGroupEnd) pending.push(bytes);
              else if (horizon === undefined) {
                const stamped = now + config.deleteRetentionMs;
                pending.push(markerWithDeleteHorizon(bytes, stamped));
                earliestHorizon = Math.min(earliestHorizon, stamped);
              } else if (now < horizon) {
                pending.push(bytes);
                earliestHorizon = Math.min(earliestHorizon, horizon);
              } else recordsRemoved += batch.recordCount;
            } else if (fate === 'open') {
              pending.push(bytes);
              transactionKeptData.add(batch.producerId);
            } else {
              const aborted = fate === 'aborted';
              const keepEmpty = isGroupEnd || lastOfProducer;
              const result = compactBatch(bytes, {
                isLatest: (offset, key) => {
                  if (aborted) return false;
                  const latest = offsets.get(key.toString('latin1'));
                  return latest === undefined || offset >= latest;
                },
                now,
                deleteRetentionMs: config.deleteRetentionMs,
                keepEmpty,
              });
              recordsRemoved += result.recordsRemoved;
              tombstonesRemoved += result.tombstonesRemoved;
              if (result.deleteHorizon >= 0)
                earliestHorizon = Math.min(earliestHorizon, result.deleteHorizon);
              if (result.bytes) {
                pending.push(result.bytes);
                // Even an emptied batch keeps its transaction's marker: without it, a reload
                // would take the batch for an open transaction and hold the LSO at it.
                if (batch.isTransactional) transactionKeptData.add(batch.producerId);
              }
            }
            sinceYield += batch.size;
            if (sinceYield >= this.yieldEveryBytes) {
              pending.flush();
              sinceYield = 0;
              await yieldToEventLoop();
              checkUnchanged();
            }
          }
        }
        pending.flush();
        checkUnchanged();
        // Retention by time falls back to file times for batches without timestamps.
        log.withStorageGuard(() => {
          const mtime = new Date(last.lastModifiedMs);
          utimesSync(cleaned.logPath, mtime, mtime);
          cleaned.lastModifiedMs = last.lastModifiedMs;
        });
        log.replaceSegments(cleaned, group);
        version = log.structureVersion; // our own change
      } catch (err) {
        if (cleaned.isOpen || cleaned.filesExist()) cleaned.delete();
        throw err;
      }
      await yieldToEventLoop();
    }
    checkUnchanged();
    log.setCleanerOffset(endOffset);
    if (earliestHorizon === Number.POSITIVE_INFINITY) this.deleteHorizons.delete(log);
    else this.deleteHorizons.set(log, earliestHorizon);
    return {
      firstDirtyOffset: state.firstDirtyOffset,
      endOffset,
      segmentsBefore,
      segmentsAfter: log.segmentCount,
      bytesBefore,
      bytesAfter: log.sizeInBytes,
      recordsRemoved,
      tombstonesRemoved,
    };
  }

  /**
   * Key → offset of its latest record, over the dirty segments, stopping at a segment boundary
   * once the map is full. Markers and the records of aborted or unfinished transactions are left
   * out: they supersede nothing.
   */
  private async buildOffsetMap(
    log: PartitionLog,
    state: CleanableState,
    fates: TransactionFates,
    checkUnchanged: () => void,
  ): Promise<{ offsets: Map<string, number>; endOffset: number }> {
    const offsets = new Map<string, number>();
    const segments = log.segmentList;
    let endOffset = state.firstDirtyOffset;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      if (segment.baseOffset >= state.firstUncleanableOffset) break;
      if (segment.nextOffset <= state.firstDirtyOffset) continue;
      if (offsets.size >= this.maxEntries) break;
      let sinceYield = 0;
      for (const batch of guardedBatches(log, segment)) {
        if (batch.lastOffset < state.firstDirtyOffset || batch.isControl) continue;
        if (batch.isTransactional && fates.fateOf(batch.producerId, batch.baseOffset) !== 'committed')
          continue;
        const bytes = log.withStorageGuard(() => segment.readBatch(batch));
        const base = batch.baseOffset;
        for (const rec of parseBatchRecords(bytes).records) {
          const offset = base + rec.offsetDelta;
          if (rec.key !== null && offset >= state.firstDirtyOffset)
            offsets.set(rec.key.toString('latin1'), offset);
        }
        sinceYield += batch.size;
        if (sinceYield >= this.yieldEveryBytes) {
          sinceYield = 0;
          await yieldToEventLoop();
          checkUnchanged();
        }
      }
      endOffset = segments[i + 1]!.baseOffset;
    }
    return { offsets, endOffset };
  }

  /**
   * One pass over the whole log's batch headers (and markers' keys): the base offset of each
   * producer's last batch, kept (empty if need be) so that the producer's sequence state can
   * still be rebuilt from the log, and how each transaction ended.
   */
  private async scanProducers(
    log: PartitionLog,
    checkUnchanged: () => void,
  ): Promise<{ lastBatchOfProducer: Map<bigint, number>; fates: TransactionFates }> {
    const last = new Map<bigint, number>();
    const fates = new TransactionFates();
    for (const segment of [...log.segmentList]) {
      for (const b of guardedBatches(log, segment)) {
        if (b.producerId < 0n) continue;
        last.set(b.producerId, b.baseOffset);
        if (b.isControl) {
          const key = parseBatchRecords(log.withStorageGuard(() => segment.readBatch(b))).records[0]?.key;
          fates.onMarker(
            b.producerId,
            b.baseOffset,
            key !== null && key !== undefined && isCommitMarkerKey(key),
          );
        } else if (b.isTransactional) fates.onData(b.producerId, b.baseOffset);
      }
      await yieldToEventLoop();
      checkUnchanged();
    }
    return { lastBatchOfProducer: last, fates };
  }
}

/**
 * Consecutive segments merged while the result fits segment.bytes and int32 relative offsets
 * (Kafka's groupSegmentsBySize), so that compaction does not leave a trail of tiny segments.
 */
export function groupSegments(segments: readonly LogSegment[], maxBytes: number): LogSegment[][] {
  const groups: LogSegment[][] = [];
  let current: LogSegment[] = [];
  let bytes = 0;
  for (const s of segments) {
    const first = current[0];
    const fits =
      first !== undefined && bytes + s.size <= maxBytes && s.nextOffset - 1 - first.baseOffset <= INT32_MAX;
    if (!fits && current.length > 0) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(s);
    bytes += s.size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Collects small cleaned batches into large writes. */
class OutputBuffer {
  private parts: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly write: (data: Buffer) => void) {}

  push(batch: Buffer): void {
    this.parts.push(batch);
    this.bytes += batch.length;
    if (this.bytes >= 1024 * 1024) this.flush();
  }

  flush(): void {
    if (this.bytes === 0) return;
    this.write(this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bytes));
    this.parts = [];
    this.bytes = 0;
  }
}

/** A segment's batch headers, read lazily under the log's storage-error guard. */
function* guardedBatches(log: PartitionLog, segment: LogSegment): Generator<BatchLocation> {
  const it = segment.batches();
  for (;;) {
    const step = log.withStorageGuard(() => it.next());
    if (step.done) return;
    yield step.value;
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
