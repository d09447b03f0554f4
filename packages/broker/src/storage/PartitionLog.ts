import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ATTR_TIMESTAMP_TYPE,
  BATCH_ATTRIBUTES,
  BATCH_BASE_OFFSET,
  BATCH_LAST_OFFSET_DELTA,
  BATCH_LENGTH,
  BATCH_MAX_TIMESTAMP,
  BATCH_PARTITION_LEADER_EPOCH,
  LOG_OVERHEAD,
  RecordBatchHeader,
} from '@fjord/protocol';
import { LeaderEpochCache } from './LeaderEpochCache.js';
import { type BatchLocation, LogSegment } from './LogSegment.js';

export interface LogConfig {
  readonly segmentBytes: number;
  readonly segmentMs: number;
  readonly retentionMs: number;
  readonly retentionBytes: number;
  readonly flushMessages: number;
  readonly flushMs: number;
  readonly indexIntervalBytes: number;
  readonly logAppendTime: boolean;
}

export const DEFAULT_LOG_CONFIG: LogConfig = {
  segmentBytes: 1_073_741_824,
  segmentMs: 7 * 86_400_000,
  retentionMs: 7 * 86_400_000,
  retentionBytes: -1,
  flushMessages: Number.MAX_SAFE_INTEGER,
  flushMs: Number.MAX_SAFE_INTEGER,
  indexIntervalBytes: 4096,
  logAppendTime: false,
};

export class OffsetOutOfRangeError extends Error {
  constructor(
    readonly offset: number,
    readonly logStartOffset: number,
    readonly logEndOffset: number,
  ) {
    super(`offset ${offset} is outside [${logStartOffset}, ${logEndOffset}]`);
    this.name = 'OffsetOutOfRangeError';
  }
}

export interface AppendResult {
  readonly firstOffset: number;
  readonly lastOffset: number;
  /** Log-append time stamped on the batches, or -1 for create time. */
  readonly logAppendTime: number;
}

interface Checkpoint {
  logStartOffset: number;
  recoveryPoint: number;
}

const CHECKPOINT_FILE = 'partition.checkpoint';

/**
 * The log of one partition replica: an ordered list of segments, offsets assigned on append,
 * reads of raw batch bytes, and the housekeeping Kafka's UnifiedLog does (roll, retention,
 * flush policy, truncation, DeleteRecords, leader epochs, crash recovery).
 */
export class PartitionLog {
  private segments: LogSegment[] = [];
  logStartOffset = 0;
  /** Offsets below this were fsynced; recovery after a crash re-checks only what follows. */
  private recoveryPoint = 0;
  private unflushedMessages = 0;
  private lastFlushMs: number;
  readonly leaderEpochs: LeaderEpochCache;

  private constructor(
    readonly dir: string,
    public config: LogConfig,
    now: number,
  ) {
    this.leaderEpochs = new LeaderEpochCache(dir);
    this.lastFlushMs = now;
  }

  /**
   * Opens (or creates) the log in `dir`. After an unclean shutdown, segments at or past the
   * recovery point are checked batch by batch and cut at the first torn or corrupt batch.
   */
  static open(
    dir: string,
    config: LogConfig,
    options: { cleanShutdown: boolean; now: number },
  ): PartitionLog {
    mkdirSync(dir, { recursive: true });
    const log = new PartitionLog(dir, config, options.now);
    const checkpoint = readCheckpoint(dir);
    log.logStartOffset = checkpoint.logStartOffset;
    log.recoveryPoint = checkpoint.recoveryPoint;
    const bases = readdirSync(dir)
      .filter((f) => /^\d{20}\.log$/.test(f))
      .map((f) => Number(f.slice(0, 20)))
      .sort((a, b) => a - b);
    for (const f of readdirSync(dir)) {
      // Leftovers of interrupted renames or of index files from earlier versions.
      if (f.endsWith('.tmp') || f.endsWith('.deleted') || f.endsWith('.index') || f.endsWith('.timeindex'))
        rmSync(join(dir, f), { force: true });
    }
    let truncated = false;
    for (const base of bases) {
      if (truncated) {
        // Everything after a damaged segment is unreachable garbage.
        rmSync(join(dir, `${String(base).padStart(20, '0')}.log`), { force: true });
        continue;
      }
      const recover =
        !options.cleanShutdown && (base >= log.recoveryPoint || base === bases[bases.length - 1]);
      const { segment, truncatedBytes } = LogSegment.open(dir, base, config.indexIntervalBytes, recover);
      if (segment.size === 0 && log.segments.length > 0) {
        segment.delete();
        continue;
      }
      log.segments.push(segment);
      if (truncatedBytes > 0) truncated = true;
    }
    if (log.segments.length === 0) {
      log.segments.push(LogSegment.create(dir, log.logStartOffset, config.indexIntervalBytes, options.now));
    }
    if (log.logStartOffset < log.segments[0]!.baseOffset) log.logStartOffset = log.segments[0]!.baseOffset;
    log.leaderEpochs.truncateFromEnd(log.logEndOffset);
    log.recoveryPoint = log.logEndOffset;
    log.writeCheckpoint();
    return log;
  }

  private get active(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

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

  /**
   * Appends already-validated batches (`data` holds whole v2 batches back to back), stamping
   * base offsets and the leader epoch in place — neither is covered by the CRC — and, for
   * LogAppendTime topics, the max timestamp (then the CRC is recomputed).
   */
  append(data: Buffer, leaderEpoch: number, now: number): AppendResult {
    const firstOffset = this.logEndOffset;
    let next = firstOffset;
    let maxTimestamp = -1;
    let offsetOfMaxTimestamp = firstOffset;
    for (let pos = 0; pos < data.length; ) {
      const size = data.readInt32BE(pos + BATCH_LENGTH) + LOG_OVERHEAD;
      data.writeBigInt64BE(BigInt(next), pos + BATCH_BASE_OFFSET);
      data.writeInt32BE(leaderEpoch, pos + BATCH_PARTITION_LEADER_EPOCH);
      if (this.config.logAppendTime) {
        data.writeInt16BE(
          data.readInt16BE(pos + BATCH_ATTRIBUTES) | ATTR_TIMESTAMP_TYPE,
          pos + BATCH_ATTRIBUTES,
        );
        data.writeBigInt64BE(BigInt(now), pos + BATCH_MAX_TIMESTAMP);
        new RecordBatchHeader(data, pos).updateCrc();
      }
      const batchMax = Number(data.readBigInt64BE(pos + BATCH_MAX_TIMESTAMP));
      if (batchMax > maxTimestamp) {
        maxTimestamp = batchMax;
        offsetOfMaxTimestamp = next;
      }
      next += data.readInt32BE(pos + BATCH_LAST_OFFSET_DELTA) + 1;
      pos += size;
    }
    if (this.shouldRoll(data.length, now)) this.roll(now);
    this.leaderEpochs.assign(leaderEpoch, firstOffset);
    this.active.append(data, { firstOffset, lastOffset: next - 1, maxTimestamp, offsetOfMaxTimestamp });
    this.unflushedMessages += next - firstOffset;
    this.maybeFlush(now);
    return { firstOffset, lastOffset: next - 1, logAppendTime: this.config.logAppendTime ? now : -1 };
  }

  private shouldRoll(incoming: number, now: number): boolean {
    const a = this.active;
    if (a.size === 0) return false;
    return a.size + incoming > this.config.segmentBytes || now - a.created >= this.config.segmentMs;
  }

  roll(now: number): void {
    if (this.active.size === 0) return;
    this.active.flush();
    this.segments.push(LogSegment.create(this.dir, this.logEndOffset, this.config.indexIntervalBytes, now));
  }

  /**
   * Raw bytes of whole batches from the one containing `offset`, at most `maxBytes` (but at
   * least one batch), and none that begins at or after `maxOffset` (the high watermark).
   */
  read(offset: number, maxBytes: number, maxOffset = this.logEndOffset): Buffer | undefined {
    if (offset < this.logStartOffset || offset > this.logEndOffset)
      throw new OffsetOutOfRangeError(offset, this.logStartOffset, this.logEndOffset);
    if (offset >= maxOffset) return undefined;
    let i = this.segmentIndexFor(offset);
    for (; i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      const limit = maxOffset >= segment.nextOffset ? segment.size : segment.positionOf(maxOffset);
      const data = segment.read(Math.max(offset, segment.baseOffset), maxBytes, limit);
      if (data && data.length > 0) return data;
    }
    return undefined;
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

  /** Every batch header in the log, oldest first (for rebuilding producer state). */
  *batches(): Generator<BatchLocation> {
    for (const segment of this.segments) {
      for (const b of segment.scan(0, segment.size, false)) {
        if (b === 'invalid') break;
        yield b;
      }
    }
  }

  /** The first batch with a timestamp ≥ `timestamp`, with its raw bytes for record lookup. */
  findBatchByTimestamp(timestamp: number): { location: BatchLocation; bytes: Buffer } | undefined {
    for (const segment of this.segments) {
      const location = segment.findByTimestamp(timestamp);
      if (!location) continue;
      const bytes = segment.read(location.baseOffset, 1);
      if (bytes) return { location, bytes: bytes.subarray(0, location.size) };
    }
    return undefined;
  }

  /** The largest timestamp in the log and the offset of its batch (ListOffsets MAX_TIMESTAMP). */
  maxTimestamp(): { timestamp: number; offset: number } {
    let best = { timestamp: -1, offset: -1 };
    for (const s of this.segments)
      if (s.maxTimestamp > best.timestamp)
        best = { timestamp: s.maxTimestamp, offset: s.offsetOfMaxTimestamp };
    return best;
  }

  /** Removes every batch at or after `offset`'s batch (replica divergence). */
  truncateTo(offset: number): void {
    if (offset >= this.logEndOffset) return;
    while (this.segments.length > 1 && this.active.baseOffset >= offset) {
      this.segments.pop()!.delete();
    }
    this.active.truncateTo(offset);
    if (this.logStartOffset > this.logEndOffset) this.logStartOffset = this.logEndOffset;
    this.leaderEpochs.truncateFromEnd(this.logEndOffset);
    this.recoveryPoint = Math.min(this.recoveryPoint, this.logEndOffset);
    this.writeCheckpoint();
  }

  /** DeleteRecords: moves the log start forward and drops segments wholly below it. */
  deleteRecordsBefore(offset: number): number {
    if (offset > this.logEndOffset)
      throw new OffsetOutOfRangeError(offset, this.logStartOffset, this.logEndOffset);
    if (offset <= this.logStartOffset) return this.logStartOffset;
    this.logStartOffset = offset;
    while (this.segments.length > 1 && this.segments[1]!.baseOffset <= offset)
      this.segments.shift()!.delete();
    this.leaderEpochs.truncateFromStart(offset);
    this.writeCheckpoint();
    return this.logStartOffset;
  }

  /** Deletes old segments by retention.ms and retention.bytes; never the active segment. */
  applyRetention(now: number): number {
    let deleted = 0;
    let total = this.sizeInBytes;
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const tooOld =
        this.config.retentionMs >= 0 &&
        oldest.maxTimestamp >= 0 &&
        now - oldest.maxTimestamp > this.config.retentionMs;
      const tooBig = this.config.retentionBytes >= 0 && total - oldest.size >= this.config.retentionBytes;
      if (!tooOld && !tooBig) break;
      this.segments.shift();
      total -= oldest.size;
      oldest.delete();
      deleted++;
    }
    if (deleted > 0) {
      this.logStartOffset = Math.max(this.logStartOffset, this.segments[0]!.baseOffset);
      this.leaderEpochs.truncateFromStart(this.logStartOffset);
      this.writeCheckpoint();
    }
    return deleted;
  }

  /** Applies flush.messages / flush.ms; also called periodically so idle logs get flushed. */
  maybeFlush(now: number): void {
    if (this.unflushedMessages === 0) return;
    if (this.unflushedMessages >= this.config.flushMessages || now - this.lastFlushMs >= this.config.flushMs)
      this.flush(now);
  }

  flush(now: number): void {
    for (let i = this.segmentIndexFor(this.recoveryPoint); i < this.segments.length; i++)
      this.segments[i]!.flush();
    this.unflushedMessages = 0;
    this.lastFlushMs = now;
    this.recoveryPoint = this.logEndOffset;
    this.writeCheckpoint();
  }

  private writeCheckpoint(): void {
    const cp: Checkpoint = { logStartOffset: this.logStartOffset, recoveryPoint: this.recoveryPoint };
    const path = join(this.dir, CHECKPOINT_FILE);
    writeFileSync(`${path}.tmp`, JSON.stringify(cp));
    renameSync(`${path}.tmp`, path);
  }

  close(now: number): void {
    this.flush(now);
    for (const s of this.segments) s.close();
  }

  /** Closes and removes the whole partition directory. */
  delete(): void {
    for (const s of this.segments) s.delete();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function readCheckpoint(dir: string): Checkpoint {
  const path = join(dir, CHECKPOINT_FILE);
  if (!existsSync(path)) return { logStartOffset: 0, recoveryPoint: 0 };
  try {
    const cp = JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
    return { logStartOffset: Number(cp.logStartOffset) || 0, recoveryPoint: Number(cp.recoveryPoint) || 0 };
  } catch {
    return { logStartOffset: 0, recoveryPoint: 0 };
  }
}
