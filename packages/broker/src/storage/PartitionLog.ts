import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  ATTR_TIMESTAMP_TYPE,
  BATCH_ATTRIBUTES,
  BATCH_BASE_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LAST_OFFSET_DELTA,
  BATCH_LENGTH,
  BATCH_MAGIC,
  BATCH_MAX_TIMESTAMP,
  BATCH_PARTITION_LEADER_EPOCH,
  decodeRecords,
  LOG_OVERHEAD,
  RecordBatchHeader,
} from '@fjord/protocol';
import type { BatchLocation } from './BatchScanner.js';
import type { TrimmableSegment } from './DiskTrimPlanner.js';
import { InvalidOffsetError, isStorageIoError, KafkaStorageError, OffsetOutOfRangeError } from './errors.js';
import { fsyncDirectory, writeFileDurably } from './FileIO.js';
import { readInt64, writeInt64 } from './Int64.js';
import { LeaderEpochCache } from './LeaderEpochCache.js';
import { type LogConfig, type ResolvedLogConfig, resolveLogConfig } from './LogConfig.js';
import { CLEANED_SUFFIX, DELETED_SUFFIX, SWAP_SUFFIX, segmentFileName } from './LogFileNames.js';
import { type LoadedLog, LogLoader, type LogLoadOptions } from './LogLoader.js';
import { LogSegment, type SegmentSettings } from './LogSegment.js';
import { type PartitionCheckpointState, writePartitionCheckpoint } from './PartitionCheckpoint.js';
import {
  CorruptProducerSnapshotError,
  decodeProducerSnapshot,
  PRODUCER_SNAPSHOT_SUFFIX,
  type ProducerSnapshotEntry,
} from './ProducerSnapshot.js';
import type { ReadBufferPool } from './ReadBufferPool.js';
import type { AbortedTransaction } from './TransactionIndex.js';

/**
 * How much of the active segment's end counts as hot (written lately, so in the page cache):
 * fetches there read synchronously. FJORD_HOT_TAIL_BYTES overrides it for benchmarks (0: every
 * fetch reads through the thread pool; a huge value: every fetch reads synchronously).
 */
const HOT_TAIL_BYTES = (() => {
  const v = Number(process.env.FJORD_HOT_TAIL_BYTES);
  return Number.isFinite(v) && v >= 0 ? v : 64 * 1024 * 1024;
})();

export { KafkaStorageError, OffsetOutOfRangeError } from './errors.js';
// Kept importable from here: handlers and the replica layer import them from this module.
export { DEFAULT_LOG_CONFIG, type LogConfig } from './LogConfig.js';

export interface AppendResult {
  readonly firstOffset: number;
  readonly lastOffset: number;
  /** Log-append time stamped on the batches, or -1 for create time. */
  readonly logAppendTime: number;
}

export interface LogOpenOptions extends LogLoadOptions {}

/** Header facts of a record set, gathered in one walk before it is appended. */
interface RecordSetSummary {
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
}

/**
 * The log of one partition replica (Kafka's UnifiedLog + LocalLog): segments ordered by base
 * offset, offsets assigned on append, raw batch bytes on read, and the housekeeping — segment
 * roll, retention, flush policy, truncation, DeleteRecords, leader epochs, checkpoints, crash
 * recovery on open. The high watermark belongs to replication; reads take it as a bound.
 *
 * I/O errors from the file system take the log offline: it closes its files, reports the
 * error through `onStorageError` (the LogManager then fails the whole directory) and from then
 * on every operation throws KafkaStorageError.
 */
export class PartitionLog {
  private segments: LogSegment[];
  /** First offset readers may see. */
  logStartOffset: number;
  private recoveryPoint: number;
  private cleanerOffset_: number;
  private highWatermark_: number;
  private lastCheckpoint: PartitionCheckpointState | undefined;
  private lastFlushMs: number;
  private config_: LogConfig;
  private resolved: ResolvedLogConfig;
  private failure: KafkaStorageError | undefined;
  private closed = false;
  /** Fetches starting this close to the active segment's end are read synchronously (see readForFetch). */
  hotTailBytes = HOT_TAIL_BYTES;
  private pendingFlush: Promise<void> = Promise.resolve();
  /** Bumped when segments other than the active one are removed or replaced. */
  private structureVersion_ = 0;
  readonly leaderEpochs: LeaderEpochCache;
  /** Bytes cut from torn or corrupt tails when this log was opened. */
  readonly truncatedOnLoad: number;
  /** Called once with the first file-system error; LogManager fails the directory. */
  onStorageError: ((error: Error) => void) | undefined;
  /**
   * The producer state as of the log end, encoded (set by the replica that owns that state):
   * written as `<log end>.snapshot` when a segment rolls and when the log closes, so that a
   * restart reads only the log after the newest snapshot (Kafka's ProducerStateManager).
   */
  producerSnapshotSource: (() => Buffer) | undefined;

  private constructor(
    readonly dir: string,
    config: LogConfig,
    loaded: LoadedLog,
    now: number,
  ) {
    this.config_ = config;
    this.resolved = resolveLogConfig(config);
    this.segments = loaded.segments;
    this.logStartOffset = loaded.logStartOffset;
    this.recoveryPoint = loaded.recoveryPoint;
    this.cleanerOffset_ = loaded.cleanerOffset;
    this.highWatermark_ = loaded.highWatermark;
    this.truncatedOnLoad = loaded.truncatedBytes;
    this.lastCheckpoint = loaded.checkpointOnDisk;
    this.lastFlushMs = now;
    this.leaderEpochs = new LeaderEpochCache(dir);
    // Epochs recorded for offsets that did not survive (or were deleted) are forgotten.
    this.leaderEpochs.truncateFromEnd(this.logEndOffset);
    this.leaderEpochs.truncateFromStart(this.logStartOffset);
    this.checkpoint();
  }

  /**
   * Opens (or creates) the log in `dir`. After an unclean shutdown the unflushed tail is
   * checked batch by batch and cut at the first torn or corrupt batch.
   */
  static open(dir: string, config: LogConfig, options: LogOpenOptions): PartitionLog {
    const loaded = new LogLoader(dir, resolveLogConfig(config), options).load();
    return new PartitionLog(dir, config, loaded, options.now);
  }

  /** open() whose recovery reads are asynchronous, so that several log dirs load at once. */
  static async openAsync(dir: string, config: LogConfig, options: LogOpenOptions): Promise<PartitionLog> {
    const loaded = await new LogLoader(dir, resolveLogConfig(config), options).loadAsync();
    return new PartitionLog(dir, config, loaded, options.now);
  }

  // ---- configuration and state -----------------------------------------------------------

  get config(): LogConfig {
    return this.config_;
  }

  /** Topic config changes apply to what happens next (rolls, retention, flushes, cleaning). */
  set config(config: LogConfig) {
    this.config_ = config;
    this.resolved = resolveLogConfig(config);
    const settings = this.segmentSettings();
    for (const s of this.segments) s.settings = settings;
  }

  /**
   * Offsets below this are committed (on every in-sync replica) and readable by consumers.
   * Always within [log start, log end]; checkpointed with the partition checkpoint.
   */
  get highWatermark(): number {
    return Math.min(Math.max(this.highWatermark_, this.logStartOffset), this.logEndOffset);
  }

  set highWatermark(offset: number) {
    this.highWatermark_ = offset;
  }

  get effectiveConfig(): ResolvedLogConfig {
    return this.resolved;
  }

  private segmentSettings(): SegmentSettings {
    return {
      indexIntervalBytes: this.resolved.indexIntervalBytes,
      segmentIndexBytes: this.resolved.segmentIndexBytes,
    };
  }

  private get active(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  /** The offset the next appended record gets. */
  get logEndOffset(): number {
    return this.active.nextOffset;
  }

  get sizeInBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Base offsets of the segments, oldest first. */
  segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }

  /** Records appended since the last flush (Kafka counts offsets past the recovery point). */
  private get unflushedMessages(): number {
    return this.logEndOffset - this.recoveryPoint;
  }

  /** Offsets below this are known to be on disk. */
  get flushedOffset(): number {
    return this.recoveryPoint;
  }

  get isOffline(): boolean {
    return this.failure !== undefined;
  }

  /** The log dir holding this partition. */
  get logDir(): string {
    return dirname(this.dir);
  }

  // ---- append ----------------------------------------------------------------------------

  /**
   * Appends validated batches as the leader (`data` holds whole v2 batches back to back):
   * stamps base offsets and the leader epoch in place — neither is covered by the CRC — and,
   * for LogAppendTime topics, the timestamp type and max timestamp (then the CRC is redone).
   */
  append(data: Buffer, leaderEpoch: number, now: number): AppendResult {
    return this.guard(() => {
      const firstOffset = this.logEndOffset;
      const logAppendTime = this.resolved.logAppendTime;
      let next = firstOffset;
      let maxTimestamp = -1;
      forEachBatch(data, (pos) => {
        writeInt64(data, pos + BATCH_BASE_OFFSET, next);
        data.writeInt32BE(leaderEpoch, pos + BATCH_PARTITION_LEADER_EPOCH);
        if (logAppendTime) {
          data.writeInt16BE(
            data.readInt16BE(pos + BATCH_ATTRIBUTES) | ATTR_TIMESTAMP_TYPE,
            pos + BATCH_ATTRIBUTES,
          );
          writeInt64(data, pos + BATCH_MAX_TIMESTAMP, now);
          new RecordBatchHeader(data, pos).updateCrc();
        }
        const ts = readInt64(data, pos + BATCH_MAX_TIMESTAMP);
        if (ts > maxTimestamp) maxTimestamp = ts;
        next += data.readInt32BE(pos + BATCH_LAST_OFFSET_DELTA) + 1;
      });
      this.appendStamped(data, { firstOffset, lastOffset: next - 1, maxTimestamp }, now);
      if (leaderEpoch > this.leaderEpochs.latestEpoch) this.leaderEpochs.assign(leaderEpoch, firstOffset);
      return { firstOffset, lastOffset: next - 1, logAppendTime: logAppendTime ? now : -1 };
    });
  }

  /**
   * Appends batches copied from the leader with their offsets and epochs as they are. They
   * must start at or after the log end offset and increase (gaps are fine: the leader's log
   * may be compacted). New leader epochs found in the batches are recorded.
   */
  appendAsFollower(data: Buffer, now: number): AppendResult {
    return this.guard(() => {
      const summary = summarize(data);
      if (summary.firstOffset < this.logEndOffset)
        throw new InvalidOffsetError(
          `follower append at ${summary.firstOffset} is below the log end offset ${this.logEndOffset}`,
        );
      let previousLast = summary.firstOffset - 1;
      const epochStarts: { epoch: number; offset: number }[] = [];
      forEachBatch(data, (pos) => {
        const base = readInt64(data, pos + BATCH_BASE_OFFSET);
        if (base <= previousLast) throw new InvalidOffsetError(`offsets go back at ${base}`);
        previousLast = base + data.readInt32BE(pos + BATCH_LAST_OFFSET_DELTA);
        const epoch = data.readInt32BE(pos + BATCH_PARTITION_LEADER_EPOCH);
        const latest = epochStarts[epochStarts.length - 1]?.epoch ?? this.leaderEpochs.latestEpoch;
        if (epoch > latest) epochStarts.push({ epoch, offset: base });
      });
      // An offset jump past the active segment's range starts a segment at the new offset.
      this.appendStamped(data, summary, now);
      for (const e of epochStarts) this.leaderEpochs.assign(e.epoch, e.offset);
      return { firstOffset: summary.firstOffset, lastOffset: summary.lastOffset, logAppendTime: -1 };
    });
  }

  private appendStamped(data: Buffer, summary: RecordSetSummary, now: number): void {
    if (data.length === 0) return;
    this.maybeRoll(data.length, summary, now);
    this.active.append(data, now);
    if (this.unflushedMessages >= this.resolved.flushMessages) this.flushUnguarded(now);
  }

  /**
   * Kafka's roll conditions: the segment would outgrow segment.bytes; its first batch is older
   * than segment.ms (by record timestamps, else by when it was created); an index is full; or
   * the new offsets do not fit the index's int32 relative offsets.
   */
  private maybeRoll(incomingBytes: number, summary: RecordSetSummary, now: number): void {
    const a = this.active;
    if (!a.canHoldOffset(summary.lastOffset)) {
      this.rollUnguarded(now, summary.firstOffset);
      return;
    }
    if (a.size === 0) return;
    const rollingBase = a.rollingBaseTimestamp();
    const waited = rollingBase >= 0 ? summary.maxTimestamp - rollingBase : now - a.createdMs;
    const c = this.resolved;
    a.rollJitterMs ??= c.segmentJitterMs > 0 ? Math.floor(Math.random() * c.segmentJitterMs) : 0;
    if (
      a.size > c.segmentBytes - incomingBytes ||
      waited > c.segmentMs - a.rollJitterMs ||
      a.offsetIndex.isFull ||
      a.timeIndex.isFull
    )
      this.rollUnguarded(now);
  }

  /**
   * Starts a new active segment at `baseOffset` (the log end offset by default). What it
   * leaves behind is fsynced in the background; once that is done, only the new segment can
   * need recovery after a crash.
   */
  roll(now: number, baseOffset = this.logEndOffset): void {
    this.guard(() => {
      if (baseOffset < this.logEndOffset)
        throw new InvalidOffsetError(
          `cannot roll at ${baseOffset}, below the log end offset ${this.logEndOffset}`,
        );
      this.rollUnguarded(now, baseOffset);
    });
  }

  private rollUnguarded(now: number, baseOffset = this.logEndOffset): void {
    const a = this.active;
    if (a.size === 0) {
      if (a.baseOffset === baseOffset) return;
      // An empty active segment at the wrong base is replaced rather than left behind.
      this.segments.pop();
      a.delete();
    } else {
      a.persistIndexes(false);
    }
    this.writeProducerSnapshot();
    this.segments.push(LogSegment.create(this.dir, baseOffset, this.segmentSettings(), now));
    this.flushInBackground(Math.min(baseOffset, this.logEndOffset));
  }

  /**
   * After a roll, fsyncs what is now inactive off the event loop (as Kafka flushes rolled
   * segments on its scheduler): an fsync of a full segment can take a second, and appends
   * must not wait for it. Flushes run one after another; the recovery point moves once one
   * completes, unless the log changed shape meanwhile (the next flush covers it then).
   */
  private flushInBackground(upTo: number): void {
    const version = this.structureVersion_;
    const paths: string[] = [];
    for (let i = this.segmentIndexFor(this.recoveryPoint); i < this.segments.length - 1; i++) {
      const s = this.segments[i]!;
      s.persistIndexes(false); // segments recovered at load may not have written theirs yet
      paths.push(s.logPath, s.offsetIndex.path, s.timeIndex.path);
      if (s.txnIndex.entries.length > 0) paths.push(s.txnIndex.path);
    }
    paths.push(this.dir); // the new segment's directory entry
    this.pendingFlush = this.pendingFlush
      .then(async () => {
        for (const path of paths) await fsyncPath(path);
        if (this.failure || this.closed || version !== this.structureVersion_) return;
        this.recoveryPoint = Math.max(this.recoveryPoint, Math.min(upTo, this.logEndOffset));
        this.writeCheckpointIfChanged();
      })
      .catch((err: unknown) => {
        // A file that vanished was deleted or replaced by the log itself; the version check
        // keeps the recovery point where it was. Anything else fails the directory.
        if (this.failure || this.closed || (err as NodeJS.ErrnoException).code === 'ENOENT') return;
        this.handleError(err);
      });
  }

  /** Resolves when the background flushes started by rolls so far are done. */
  flushesSettled(): Promise<void> {
    return this.pendingFlush;
  }

  // ---- read ------------------------------------------------------------------------------

  /**
   * Raw bytes of whole batches starting with the one holding `offset`: at most `maxBytes`
   * (but at least that one batch, however large) and none at or past `maxOffset` (the high
   * watermark for consumers). Reads stay within one segment, as Kafka's do. Returns undefined
   * when there is nothing to read; throws OffsetOutOfRangeError outside [start, end].
   */
  read(
    offset: number,
    maxBytes: number,
    maxOffset = this.logEndOffset,
    buffers?: ReadBufferPool,
  ): Buffer | undefined {
    return this.guard(() => {
      if (offset < this.logStartOffset || offset > this.logEndOffset)
        throw new OffsetOutOfRangeError(offset, this.logStartOffset, this.logEndOffset);
      if (offset >= maxOffset) return undefined;
      for (let i = this.segmentIndexFor(offset); i < this.segments.length; i++) {
        const segment = this.segments[i]!;
        const limit = maxOffset >= segment.nextOffset ? segment.size : segment.positionOf(maxOffset);
        const data = segment.read(Math.max(offset, segment.baseOffset), maxBytes, limit, buffers);
        if (data && data.length > 0) return data;
        if (maxOffset <= segment.nextOffset) break;
      }
      return undefined;
    });
  }

  /**
   * `read` for fetches: data near the end of the active segment (written lately, so in the page
   * cache) is read synchronously, the fastest way for hot data; anything else may have to come
   * from the disk and is read through the thread pool, so a slow disk or a cold segment does not
   * stall the event loop and every other connection with it (docs/adr/0020).
   */
  readForFetch(
    offset: number,
    maxBytes: number,
    maxOffset: number,
    buffers?: ReadBufferPool,
  ): Buffer | undefined | Promise<Buffer | undefined> {
    const cold = this.guard(() => {
      if (offset < this.logStartOffset || offset > this.logEndOffset)
        throw new OffsetOutOfRangeError(offset, this.logStartOffset, this.logEndOffset);
      if (offset >= maxOffset) return undefined;
      const i = this.segmentIndexFor(offset);
      const segment = this.segments[i]!;
      const hot =
        i === this.segments.length - 1 &&
        segment.size - segment.offsetIndex.lookup(offset) <= this.hotTailBytes;
      return hot ? undefined : i;
    });
    if (cold === undefined) return this.read(offset, maxBytes, maxOffset, buffers);
    return this.readAsyncFrom(cold, offset, maxBytes, maxOffset, buffers);
  }

  private async readAsyncFrom(
    first: number,
    offset: number,
    maxBytes: number,
    maxOffset: number,
    buffers?: ReadBufferPool,
  ): Promise<Buffer | undefined> {
    // The segments as they are now: a roll or a deletion meanwhile changes the array, not them.
    const segments = this.segments.slice(first);
    try {
      for (const segment of segments) {
        if (this.failure) throw this.failure;
        const bound = maxOffset >= segment.nextOffset ? undefined : maxOffset;
        const data = await segment.readAsync(Math.max(offset, segment.baseOffset), maxBytes, bound, buffers);
        if (data && data.length > 0) return data;
        if (maxOffset <= segment.nextOffset) break;
      }
      return undefined;
    } catch (err) {
      throw this.handleError(err);
    }
  }

  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * The batch headers of the log from the batch holding `from` on, oldest first (for rebuilding
   * producer state after the newest snapshot).
   */
  *batches(from = 0): Generator<BatchLocation> {
    for (const segment of this.segments.slice(this.segmentIndexFor(from))) {
      if (this.failure) throw this.failure;
      const it = segment.batches();
      for (;;) {
        let step: IteratorResult<BatchLocation>;
        try {
          step = it.next();
        } catch (err) {
          throw this.handleError(err);
        }
        if (step.done) break;
        if (step.value.lastOffset >= from) yield step.value;
      }
    }
  }

  // ---- producer state on disk: snapshots and aborted-transaction indexes -------------------

  /**
   * The newest intact producer snapshot a restart can start from: at or below the recovery
   * point, where everything it describes (and every aborted-transaction index entry before it)
   * was fsynced. Corrupt ones are deleted on the way, as Kafka does.
   */
  latestProducerSnapshot(): { offset: number; entries: ProducerSnapshotEntry[] } | undefined {
    return this.guard(() => {
      for (const offset of this.producerSnapshotOffsets().reverse()) {
        if (offset > this.recoveryPoint) continue;
        const path = this.producerSnapshotPath(offset);
        try {
          return { offset, entries: decodeProducerSnapshot(readFileSync(path)) };
        } catch (err) {
          if (!(err instanceof CorruptProducerSnapshotError)) throw err;
          rmSync(path, { force: true });
        }
      }
      return undefined;
    });
  }

  /** ABORT markers recorded in the segments' transaction indexes, below `offset`, in log order. */
  abortedTransactionsBefore(offset: number): AbortedTransaction[] {
    return this.segments.flatMap((s) => s.txnIndex.entries.filter((e) => e.lastOffset < offset));
  }

  /** Records an ABORT marker appended at `entry.lastOffset` in its segment's transaction index. */
  recordAbortedTransaction(entry: AbortedTransaction): void {
    this.guard(() => this.segments[this.segmentIndexFor(entry.lastOffset)]!.txnIndex.append(entry));
  }

  /** Forgets transaction index entries from `offset` on (they are about to be rebuilt from the log). */
  truncateTransactionIndexesFrom(offset: number): void {
    this.guard(() => {
      for (const s of this.segments) s.txnIndex.truncateFrom(offset);
    });
  }

  private producerSnapshotPath(offset: number): string {
    return join(this.dir, segmentFileName(offset, PRODUCER_SNAPSHOT_SUFFIX));
  }

  private producerSnapshotOffsets(): number[] {
    return readdirSync(this.dir)
      .map((name) => /^(\d{20})\.snapshot$/.exec(name))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  }

  /**
   * Writes `<log end>.snapshot` durably, then deletes the snapshots a restart can no longer need:
   * those older than the newest one at or below the recovery point.
   */
  private writeProducerSnapshot(): void {
    if (!this.producerSnapshotSource) return;
    const end = this.logEndOffset;
    writeFileDurably(this.producerSnapshotPath(end), this.producerSnapshotSource());
    const usable = this.producerSnapshotOffsets().filter((o) => o <= this.recoveryPoint);
    const keepFrom = usable.at(-1) ?? end;
    this.deleteProducerSnapshots((at) => at < keepFrom);
  }

  private deleteProducerSnapshots(which: (offset: number) => boolean): void {
    for (const offset of this.producerSnapshotOffsets())
      if (which(offset)) rmSync(this.producerSnapshotPath(offset), { force: true });
  }

  /** The bytes of a batch `batches()` yielded (control batches, read when rebuilding state). */
  readBatchAt(location: BatchLocation): Buffer {
    return this.guard(() => this.segments[this.segmentIndexFor(location.baseOffset)]!.readBatch(location));
  }

  /**
   * ListOffsets by timestamp: the first record whose timestamp is ≥ `timestamp`, at or after
   * the log start and below `maxOffset`, found through the time indexes. Decodes only the
   * batches whose max timestamp qualifies.
   */
  offsetForTimestamp(
    timestamp: number,
    maxOffset = this.logEndOffset,
  ): { offset: number; timestamp: number } | undefined {
    return this.guard(() => {
      for (const segment of this.segments) {
        if (segment.nextOffset <= this.logStartOffset || segment.maxTimestamp < timestamp) continue;
        const from = segment.findByTimestamp(timestamp);
        if (!from) continue;
        let found: { offset: number; timestamp: number } | undefined;
        let pastBound = false;
        segment.scan((b) => {
          if (b.baseOffset >= maxOffset) {
            pastBound = true;
            return false;
          }
          if (b.maxTimestamp < timestamp || b.lastOffset < this.logStartOffset) return true;
          for (const r of decodeRecords(segment.readBatch(b))) {
            const offset = Number(r.offset);
            if (r.timestamp >= BigInt(timestamp) && offset >= this.logStartOffset && offset < maxOffset) {
              found = { offset, timestamp: Number(r.timestamp) };
              return false;
            }
          }
          return true;
        }, from.position);
        if (found || pastBound) return found;
      }
      return undefined;
    });
  }

  /** The first batch with a max timestamp ≥ `timestamp`, with its raw bytes for record lookup. */
  findBatchByTimestamp(timestamp: number): { location: BatchLocation; bytes: Buffer } | undefined {
    return this.guard(() => {
      for (const segment of this.segments) {
        const location = segment.findByTimestamp(timestamp);
        if (location) return { location, bytes: segment.readBatch(location) };
      }
      return undefined;
    });
  }

  /**
   * ListOffsets MAX_TIMESTAMP (KIP-734): the largest timestamp in the log and the offset of the
   * first record carrying it; {-1, -1} for an empty log.
   */
  maxTimestamp(): { timestamp: number; offset: number } {
    return this.guard(() => {
      let best: LogSegment | undefined;
      for (const s of this.segments)
        if (s.maxTimestamp >= 0 && s.maxTimestamp > (best?.maxTimestamp ?? -1)) best = s;
      if (!best) return { timestamp: -1, offset: -1 };
      const batch = best.locate(best.offsetOfMaxTimestamp);
      if (batch) {
        for (const r of decodeRecords(best.readBatch(batch)))
          if (Number(r.timestamp) === best.maxTimestamp)
            return { timestamp: best.maxTimestamp, offset: Number(r.offset) };
      }
      return { timestamp: best.maxTimestamp, offset: best.offsetOfMaxTimestamp };
    });
  }

  // ---- truncation, deletion, retention ---------------------------------------------------

  /**
   * Removes every batch from the one holding `offset` on (replica divergence). Below the first
   * segment the log restarts empty at `offset`.
   */
  truncateTo(offset: number): void {
    this.guard(() => {
      if (offset >= this.logEndOffset) {
        // Nothing to cut, but an epoch this replica started as leader without appending to it
        // (its start is the log end) must go: the new leader never had it, and a follower
        // naming it as its last fetched epoch is told it diverged, again and again (Kafka's
        // UnifiedLog.truncateTo does the same).
        this.leaderEpochs.truncateFromEnd(this.logEndOffset);
        return;
      }
      if (offset < this.segments[0]!.baseOffset) {
        this.truncateFullyAndStartAtUnguarded(offset);
        return;
      }
      while (this.segments.length > 1 && this.active.baseOffset > offset) this.segments.pop()!.delete();
      this.active.truncateTo(offset);
      this.deleteProducerSnapshots((at) => at > offset);
      this.structureVersion_++;
      const end = this.logEndOffset;
      this.logStartOffset = Math.min(this.logStartOffset, end);
      this.leaderEpochs.truncateFromEnd(end);
      this.recoveryPoint = Math.min(this.recoveryPoint, end);
      this.cleanerOffset_ = Math.min(this.cleanerOffset_, end);
      this.writeCheckpointIfChanged();
    });
  }

  /** Drops everything and restarts the log empty at `offset` (a follower far behind the leader's start). */
  truncateFullyAndStartAt(offset: number): void {
    this.guard(() => this.truncateFullyAndStartAtUnguarded(offset));
  }

  private truncateFullyAndStartAtUnguarded(offset: number): void {
    for (const s of this.segments.splice(0)) s.delete();
    this.deleteProducerSnapshots(() => true);
    this.segments.push(LogSegment.create(this.dir, offset, this.segmentSettings(), Date.now()));
    fsyncDirectory(this.dir);
    this.structureVersion_++;
    this.logStartOffset = offset;
    this.recoveryPoint = offset;
    this.cleanerOffset_ = offset;
    this.leaderEpochs.clear();
    this.writeCheckpointIfChanged();
  }

  /**
   * DeleteRecords: moves the log start forward to `offset` and deletes segments wholly below
   * it. Returns the new log start offset (the low watermark).
   */
  deleteRecordsBefore(offset: number): number {
    return this.guard(() => {
      if (offset > this.logEndOffset)
        throw new OffsetOutOfRangeError(offset, this.logStartOffset, this.logEndOffset);
      if (offset <= this.logStartOffset) return this.logStartOffset;
      this.logStartOffset = offset;
      this.deleteSegmentsBelowLogStart();
      this.leaderEpochs.truncateFromStart(offset);
      this.writeCheckpointIfChanged();
      return this.logStartOffset;
    });
  }

  private deleteSegmentsBelowLogStart(): number {
    let deleted = 0;
    while (this.segments.length > 1 && this.segments[1]!.baseOffset <= this.logStartOffset) {
      this.segments.shift()!.delete();
      deleted++;
    }
    if (deleted > 0) this.structureVersion_++;
    return deleted;
  }

  /**
   * Deletes the oldest segments past retention.ms (by their newest record's timestamp) or
   * while the log exceeds retention.bytes, for `cleanup.policy` including `delete`. Never the
   * active segment, and only segments wholly below `upperBound` (the high watermark, so that
   * nothing unreplicated goes). Returns the number of segments deleted.
   */
  applyRetention(now: number, upperBound = this.logEndOffset): number {
    return this.guard(() => {
      if (!this.resolved.cleanupPolicy.delete) return 0;
      const { retentionMs, retentionBytes } = this.resolved;
      let total = this.sizeInBytes;
      return this.deleteOldestSegmentsWhile(upperBound, (oldest) => {
        const tooOld = retentionMs >= 0 && now - oldest.largestTimestamp > retentionMs;
        const tooBig = retentionBytes >= 0 && total - oldest.size >= retentionBytes;
        if (tooOld || tooBig) total -= oldest.size;
        return tooOld || tooBig;
      });
    });
  }

  /**
   * The segments retention could delete now, oldest first: closed and wholly below
   * `upperBound`; none unless `cleanup.policy` includes `delete` (compacted logs keep every key).
   */
  deletableSegments(upperBound = this.logEndOffset): TrimmableSegment[] {
    if (this.failure || !this.resolved.cleanupPolicy.delete) return [];
    const out: TrimmableSegment[] = [];
    for (let i = 0; i + 1 < this.segments.length && this.segments[i + 1]!.baseOffset <= upperBound; i++) {
      const s = this.segments[i]!;
      out.push({ sizeBytes: s.size, largestTimestamp: s.largestTimestamp });
    }
    return out;
  }

  /**
   * Deletes the `count` oldest segments for the instance's disk budget, through retention's own
   * path (log start offset, leader epochs, checkpoint), within what deletableSegments allows.
   */
  deleteOldestSegments(count: number, upperBound = this.logEndOffset): number {
    return this.guard(() => {
      if (!this.resolved.cleanupPolicy.delete) return 0;
      let left = count;
      return this.deleteOldestSegmentsWhile(upperBound, () => left-- > 0);
    });
  }

  private deleteOldestSegmentsWhile(
    upperBound: number,
    shouldDelete: (oldest: LogSegment) => boolean,
  ): number {
    let deleted = 0;
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      if (this.segments[1]!.baseOffset > upperBound || !shouldDelete(oldest)) break;
      this.segments.shift();
      oldest.delete();
      deleted++;
    }
    if (deleted > 0) {
      this.structureVersion_++;
      this.logStartOffset = Math.max(this.logStartOffset, this.segments[0]!.baseOffset);
      this.leaderEpochs.truncateFromStart(this.logStartOffset);
      this.writeCheckpointIfChanged();
    }
    return deleted;
  }

  // ---- flush and checkpoints -------------------------------------------------------------

  /** flush.messages / flush.ms; the flush scheduler calls this so idle logs get flushed too. */
  maybeFlush(now: number): void {
    if (this.failure || this.unflushedMessages === 0) return;
    if (
      this.unflushedMessages >= this.resolved.flushMessages ||
      now - this.lastFlushMs >= this.resolved.flushMs
    )
      this.flush(now);
  }

  /** fsyncs every segment holding unflushed data; the recovery point moves to the log end. */
  flush(now = Date.now()): void {
    this.guard(() => this.flushUnguarded(now));
  }

  private flushUnguarded(now: number): void {
    const active = this.active;
    for (let i = this.segmentIndexFor(this.recoveryPoint); i < this.segments.length; i++) {
      const s = this.segments[i]!;
      // The active segment's indexes are rebuilt by recovery after a crash; others must be right.
      s.flush(s !== active);
    }
    this.lastFlushMs = now;
    this.recoveryPoint = this.logEndOffset;
  }

  /**
   * Writes the partition checkpoint (log start, recovery point, cleaner offset) if it changed.
   * A stale recovery point only means more checking after a crash, so this runs on a timer;
   * changes to the log start are written at once.
   */
  checkpoint(): void {
    this.guard(() => this.writeCheckpointIfChanged());
  }

  private writeCheckpointIfChanged(): void {
    const state: PartitionCheckpointState = {
      logStartOffset: this.logStartOffset,
      recoveryPoint: this.recoveryPoint,
      cleanerOffset: this.cleanerOffset_,
      highWatermark: this.highWatermark,
    };
    const last = this.lastCheckpoint;
    if (
      last &&
      last.logStartOffset === state.logStartOffset &&
      last.recoveryPoint === state.recoveryPoint &&
      last.cleanerOffset === state.cleanerOffset &&
      last.highWatermark === state.highWatermark
    )
      return;
    writePartitionCheckpoint(this.dir, state);
    this.lastCheckpoint = state;
  }

  // ---- cleaner support -------------------------------------------------------------------

  /** The cleaner's first dirty offset. */
  get cleanerOffset(): number {
    return this.cleanerOffset_;
  }

  /** Changes whenever segments other than the active one are removed or replaced. */
  get structureVersion(): number {
    return this.structureVersion_;
  }

  /** The segments, oldest first; the last is the active one. For the cleaner: read only. */
  get segmentList(): readonly LogSegment[] {
    return this.segments;
  }

  /** The earliest offset whose segment may still be appended to (never cleaned). */
  get activeSegmentBaseOffset(): number {
    return this.active.baseOffset;
  }

  /** A new segment file `<base>.log.cleaned` for the cleaner to fill. */
  createCleanedSegment(baseOffset: number, now: number): LogSegment {
    return this.guard(() =>
      LogSegment.create(this.dir, baseOffset, this.segmentSettings(), now, CLEANED_SUFFIX),
    );
  }

  /**
   * Replaces consecutive inactive segments by one cleaned segment covering the same offsets,
   * crash-safely: the cleaned files are fsynced, renamed to `.swap` (the commit point: from
   * here recovery finishes the swap), the old files renamed to `.deleted`, the swap files to
   * their final names, then the old files removed.
   */
  replaceSegments(replacement: LogSegment, old: readonly LogSegment[]): void {
    this.guard(() => {
      const first = this.segments.indexOf(old[0]!);
      if (first < 0 || old.some((s, i) => this.segments[first + i] !== s) || old.includes(this.active))
        throw new Error('segments to replace are not consecutive inactive segments of this log');
      // The cleaner copies batches, not ABORT entries: those move over here (stale ones are harmless).
      for (const s of old) for (const e of s.txnIndex.entries) replacement.txnIndex.append(e);
      replacement.flush(true);
      replacement.changeFileSuffix(SWAP_SUFFIX);
      fsyncDirectory(this.dir);
      for (const s of old) {
        s.closeQuietly();
        s.changeFileSuffix(DELETED_SUFFIX);
      }
      replacement.changeFileSuffix('');
      fsyncDirectory(this.dir);
      for (const s of old) s.delete();
      this.segments.splice(first, old.length, replacement);
      this.structureVersion_++;
    });
  }

  /**
   * Runs `op` (the cleaner's reads and writes of segment files) like the log's own operations:
   * a file-system error takes the log and its directory offline.
   */
  withStorageGuard<T>(op: () => T): T {
    return this.guard(op);
  }

  /** Records how far the log was cleaned: offsets before this were compacted at least once. */
  setCleanerOffset(offset: number): void {
    this.guard(() => {
      this.cleanerOffset_ = Math.max(this.cleanerOffset_, Math.min(offset, this.logEndOffset));
      this.writeCheckpointIfChanged();
    });
  }

  // ---- lifecycle and failures ------------------------------------------------------------

  /** Flushes, writes indexes and the checkpoint, and closes the files. */
  close(now = Date.now()): void {
    if (this.failure || this.closed) return;
    this.structureVersion_++;
    this.guard(() => {
      this.flushUnguarded(now);
      this.writeProducerSnapshot();
      this.writeCheckpointIfChanged();
      for (const s of this.segments) s.close();
    });
    this.closed = true;
  }

  /** Closes and removes the whole partition directory. */
  delete(): void {
    this.structureVersion_++;
    for (const s of this.segments) s.closeQuietly();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Takes the log offline after its directory failed: files are closed without writing, and
   * every later operation throws KafkaStorageError.
   */
  markOffline(cause: unknown): void {
    if (this.failure) return;
    this.failure = new KafkaStorageError(`log ${this.dir} is offline: ${describe(cause)}`, this.logDir, {
      cause,
    });
    for (const s of this.segments) s.closeQuietly();
  }

  private guard<T>(op: () => T): T {
    if (this.failure) throw this.failure;
    // Use after close is a bug in the caller, not a failing disk: keep the directory online.
    if (this.closed) throw new Error(`log ${this.dir} is closed`);
    try {
      return op();
    } catch (err) {
      throw this.handleError(err);
    }
  }

  private handleError(err: unknown): unknown {
    if (!isStorageIoError(err) || this.failure) return err;
    this.markOffline(err);
    this.onStorageError?.(err);
    return this.failure;
  }
}

/** Calls `fn` with the position of each batch; throws unless `data` is whole v2 batches. */
function forEachBatch(data: Buffer, fn: (pos: number) => void): void {
  for (let pos = 0; pos < data.length; ) {
    if (data.length - pos < BATCH_HEADER_SIZE || data.readInt8(pos + BATCH_MAGIC) !== 2)
      throw new Error(`record set is not whole v2 batches at byte ${pos}`);
    const size = data.readInt32BE(pos + BATCH_LENGTH) + LOG_OVERHEAD;
    if (size < BATCH_HEADER_SIZE || pos + size > data.length)
      throw new Error(`record set is not whole v2 batches at byte ${pos}`);
    fn(pos);
    pos += size;
  }
}

function summarize(data: Buffer): RecordSetSummary {
  let firstOffset = -1;
  let lastOffset = -1;
  let maxTimestamp = -1;
  forEachBatch(data, (pos) => {
    const base = readInt64(data, pos + BATCH_BASE_OFFSET);
    const delta = data.readInt32BE(pos + BATCH_LAST_OFFSET_DELTA);
    if (firstOffset < 0) firstOffset = base;
    lastOffset = base + delta;
    const ts = readInt64(data, pos + BATCH_MAX_TIMESTAMP);
    if (ts > maxTimestamp) maxTimestamp = ts;
  });
  return { firstOffset, lastOffset, maxTimestamp };
}

/** fsync of a file or directory by path, through its own descriptor (Linux flushes the inode). */
async function fsyncPath(path: string): Promise<void> {
  const handle = await openFile(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
