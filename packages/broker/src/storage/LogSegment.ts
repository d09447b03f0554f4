import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  renameSync,
  rmSync,
} from 'node:fs';
import {
  BATCH_BASE_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LAST_OFFSET_DELTA,
  BATCH_LENGTH,
  BATCH_MAX_TIMESTAMP,
  LOG_OVERHEAD,
} from '@fjord/protocol';
import {
  type BatchLocation,
  type BatchVisitor,
  type ReadRequest,
  runScanAsync,
  runScanSync,
  type ScanEnd,
  scanBatches,
} from './BatchScanner.js';
import { readFully, readFullySync, writeFullySync } from './FileIO.js';
import { readInt64 } from './Int64.js';
import {
  INDEX_SUFFIX,
  LOG_SUFFIX,
  segmentFilePath,
  TIME_INDEX_SUFFIX,
  TXN_INDEX_SUFFIX,
} from './LogFileNames.js';
import { OffsetIndex } from './OffsetIndex.js';
import type { ReadBufferPool } from './ReadBufferPool.js';
import { TimeIndex } from './TimeIndex.js';
import { TransactionIndex } from './TransactionIndex.js';

export type { BatchLocation } from './BatchScanner.js';

/** The settings a segment needs from its log's config. */
export interface SegmentSettings {
  readonly indexIntervalBytes: number;
  readonly segmentIndexBytes: number;
}

/** Reads for index-assisted lookups: an index interval (4 KiB by default) plus a header or two. */
const LOOKUP_CHUNK = 8 * 1024;
/** Reads for sequential verification at recovery. */
const RECOVERY_CHUNK = 1024 * 1024;
const INT32_MAX = 2 ** 31 - 1;

/**
 * One segment of a partition log: `<baseOffset>.log` holding record batches exactly as they
 * were appended, with a sparse offset index (`.index`) and time index (`.timeindex`). Batches
 * are found by index lookup plus a short scan of headers; records are never decoded here.
 * I/O is positional: one write per append, one read per fetch. Writes and hot reads are
 * synchronous; `readAsync` reads through libuv's thread pool (for data that may miss the page
 * cache), and keeps the file open until it is done even if the segment is closed meanwhile.
 */
export class LogSegment {
  private fd: number;
  /** Asynchronous reads under way: the descriptor is closed only once they are done. */
  private readsInFlight = 0;
  /** A descriptor closed while reads were in flight, closed when the last one ends. */
  private fdToClose = -1;
  /** Bytes of whole batches in the file. */
  size: number;
  /** The offset after the last batch (the base offset when empty). */
  nextOffset: number;
  /** Largest batch max timestamp in the segment, -1 when none. */
  maxTimestamp = -1;
  /** Last offset of the batch holding `maxTimestamp`. */
  offsetOfMaxTimestamp = -1;
  /** For retention when batches carry no timestamps: the file's modification time. */
  lastModifiedMs: number;
  /** When this process created or opened the segment: segment.ms counts from it without timestamps. */
  readonly createdMs: number;
  /** Kafka's per-segment random share of segment.jitter.ms, so that logs do not all roll at once. */
  rollJitterMs: number | undefined;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  /** ABORT markers in this segment (loaded whole: aborts are rare). */
  readonly txnIndex: TransactionIndex;
  private bytesSinceIndexEntry = 0;
  /** Max timestamp of the first batch, which segment.ms counts from (undefined: not read yet). */
  private firstBatchTimestamp: number | undefined;
  /** '' for a live segment; `.cleaned` / `.swap` while the cleaner builds a replacement. */
  private fileSuffix: string;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    public settings: SegmentSettings,
    fd: number,
    size: number,
    lastModifiedMs: number,
    fileSuffix: string,
  ) {
    this.fd = fd;
    this.size = size;
    this.nextOffset = baseOffset;
    this.lastModifiedMs = lastModifiedMs;
    this.createdMs = Date.now();
    this.fileSuffix = fileSuffix;
    this.offsetIndex = new OffsetIndex(this.pathOf(INDEX_SUFFIX), baseOffset, settings.segmentIndexBytes);
    this.timeIndex = new TimeIndex(this.pathOf(TIME_INDEX_SUFFIX), baseOffset, settings.segmentIndexBytes);
    this.txnIndex = new TransactionIndex(this.pathOf(TXN_INDEX_SUFFIX));
  }

  private pathOf(kind: string, suffix = this.fileSuffix): string {
    return segmentFilePath(this.dir, this.baseOffset, kind) + suffix;
  }

  get logPath(): string {
    return this.pathOf(LOG_SUFFIX);
  }

  /** A new empty segment (an existing file of that name is emptied). */
  static create(
    dir: string,
    baseOffset: number,
    settings: SegmentSettings,
    now: number,
    fileSuffix = '',
  ): LogSegment {
    const path = segmentFilePath(dir, baseOffset, LOG_SUFFIX) + fileSuffix;
    rmSync(segmentFilePath(dir, baseOffset, TXN_INDEX_SUFFIX) + fileSuffix, { force: true });
    const fd = openSync(path, 'w+');
    const segment = new LogSegment(dir, baseOffset, settings, fd, 0, now, fileSuffix);
    segment.firstBatchTimestamp = -1;
    segment.offsetIndex.markDirty();
    segment.timeIndex.markDirty();
    return segment;
  }

  /** Opens the files of an existing segment; call loadTrusted() or recover() next. */
  static open(dir: string, baseOffset: number, settings: SegmentSettings, fileSuffix = ''): LogSegment {
    const path = segmentFilePath(dir, baseOffset, LOG_SUFFIX) + fileSuffix;
    const fd = openSync(path, 'r+');
    const stat = fstatSync(fd);
    return new LogSegment(dir, baseOffset, settings, fd, stat.size, stat.mtimeMs, fileSuffix);
  }

  // ---- loading and recovery ------------------------------------------------------------

  /**
   * Loads a segment that was flushed (or closed cleanly): index files are trusted after a
   * sanity check, and only the batches after the last index entry are walked to find the next
   * offset. Missing or inconsistent indexes are rebuilt from batch headers. Returns false when
   * even the headers do not add up: the caller must then recover() the segment.
   */
  loadTrusted(): boolean {
    if (
      this.offsetIndex.load() &&
      this.timeIndex.load() &&
      this.offsetIndex.isConsistent(this.size) &&
      this.restoreFromIndexes() &&
      this.timeIndex.isConsistent(this.nextOffset - 1)
    )
      return true;
    return this.rebuildIndexes();
  }

  /** Re-indexes the whole segment from batch headers (no CRC checks). */
  rebuildIndexes(): boolean {
    const end = runScanSync(this.fd, this.indexingScan(false));
    if (end.invalid) return false;
    this.firstBatchTimestamp = undefined;
    return true;
  }

  /**
   * Checks every batch (size, magic, CRC-32C, increasing offsets), cuts the file at the first
   * bad one and rebuilds both indexes. Returns the number of bytes cut.
   */
  recover(): number {
    return this.finishRecovery(runScanSync(this.fd, this.indexingScan(true)));
  }

  /** recover() over asynchronous reads, for loading several log dirs at once. */
  async recoverAsync(): Promise<number> {
    return this.finishRecovery(await runScanAsync(this.fd, this.indexingScan(true)));
  }

  private indexingScan(verify: boolean): Generator<ReadRequest, ScanEnd, Buffer> {
    this.offsetIndex.clear();
    this.timeIndex.clear();
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = -1;
    this.nextOffset = this.baseOffset;
    this.bytesSinceIndexEntry = 0;
    return scanBatches(
      {
        from: 0,
        to: this.size,
        verify,
        chunkBytes: verify ? RECOVERY_CHUNK : LOOKUP_CHUNK,
        minBaseOffset: this.baseOffset,
        segmentBaseOffset: this.baseOffset,
      },
      (b) => {
        this.indexBatch(b.baseOffset, b.lastOffset, b.maxTimestamp, b.position, b.size);
        this.nextOffset = b.lastOffset + 1;
        return true;
      },
    );
  }

  private finishRecovery(end: ScanEnd): number {
    const cut = this.size - end.position;
    if (cut > 0) {
      ftruncateSync(this.fd, end.position);
      this.size = end.position;
    }
    this.firstBatchTimestamp = undefined;
    this.offsetIndex.markDirty();
    this.timeIndex.markDirty();
    return cut;
  }

  /**
   * Derives next offset and max timestamp from loaded indexes plus a walk of the batches after
   * the last offset index entry. Both indexes gain entries at the same moments, and the time
   * index only when the max timestamp grows, so batches before that entry cannot hold a larger
   * timestamp than the time index's last entry.
   */
  private restoreFromIndexes(): boolean {
    const lastTime = this.timeIndex.lastEntry;
    const lastEntry = this.offsetIndex.lastEntry;
    this.maxTimestamp = lastTime?.timestamp ?? -1;
    this.offsetOfMaxTimestamp = lastTime?.offset ?? -1;
    this.nextOffset = this.baseOffset;
    const from = lastEntry?.position ?? 0;
    let consistent = true;
    let first = true;
    const end = runScanSync(
      this.fd,
      scanBatches({ from, to: this.size, verify: false, chunkBytes: LOOKUP_CHUNK }, (b) => {
        if (first && lastEntry && b.baseOffset !== lastEntry.offset) {
          consistent = false;
          return false;
        }
        first = false;
        if (b.maxTimestamp > this.maxTimestamp) {
          this.maxTimestamp = b.maxTimestamp;
          this.offsetOfMaxTimestamp = b.lastOffset;
        }
        this.nextOffset = b.lastOffset + 1;
        return true;
      }),
    );
    if (!consistent || end.invalid || end.position !== this.size) return false;
    if (lastEntry && this.nextOffset === this.baseOffset) return false;
    this.bytesSinceIndexEntry = this.size - from;
    this.firstBatchTimestamp = undefined;
    return true;
  }

  /** Kafka's rule: an index entry once more than index.interval.bytes were appended since the last. */
  private indexBatch(
    baseOffset: number,
    lastOffset: number,
    maxTimestamp: number,
    position: number,
    size: number,
  ): void {
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = lastOffset;
    }
    if (this.bytesSinceIndexEntry > this.settings.indexIntervalBytes) {
      this.offsetIndex.append(baseOffset, position);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += size;
  }

  // ---- append and read -----------------------------------------------------------------

  /** Whether offsets up to `lastOffset` still fit the index's int32 relative offsets. */
  canHoldOffset(lastOffset: number): boolean {
    return lastOffset - this.baseOffset <= INT32_MAX;
  }

  /**
   * Appends whole batches whose offsets the caller stamped (`data` may hold several). One
   * positional write; indexes are updated from header fields only.
   */
  append(data: Buffer, now: number): void {
    const position = this.size;
    writeFullySync(this.fd, data, position);
    for (let pos = 0; pos < data.length; ) {
      const size = data.readInt32BE(pos + BATCH_LENGTH) + LOG_OVERHEAD;
      const baseOffset = readInt64(data, pos + BATCH_BASE_OFFSET);
      const lastOffset = baseOffset + data.readInt32BE(pos + BATCH_LAST_OFFSET_DELTA);
      const maxTimestamp = readInt64(data, pos + BATCH_MAX_TIMESTAMP);
      if (position + pos === 0) this.firstBatchTimestamp = maxTimestamp;
      this.indexBatch(baseOffset, lastOffset, maxTimestamp, position + pos, size);
      this.nextOffset = lastOffset + 1;
      pos += size;
    }
    this.size += data.length;
    this.lastModifiedMs = now;
  }

  /** Walks batches from file position `from` (headers only), stopping when `visit` says so. */
  scan(visit: BatchVisitor, from = 0, to = this.size): ScanEnd {
    return runScanSync(this.fd, scanBatches({ from, to, verify: false, chunkBytes: LOOKUP_CHUNK }, visit));
  }

  /** Every batch in the segment from file position `from`, oldest first (headers only, lazily). */
  *batches(from = 0): Generator<BatchLocation> {
    const pending: BatchLocation[] = [];
    const scan = scanBatches({ from, to: this.size, verify: false, chunkBytes: LOOKUP_CHUNK }, (b) => {
      pending.push(b);
      return true;
    });
    let scratch: Buffer | undefined;
    let step = scan.next(Buffer.alloc(0));
    for (;;) {
      // Batches found in the last chunk are handed out before the next read.
      yield* pending.splice(0);
      if (step.done) return;
      const req = step.value;
      if (!scratch || scratch.length < req.length) scratch = Buffer.allocUnsafe(req.length);
      step = scan.next(readFullySync(this.fd, req.position, req.length, scratch));
    }
  }

  /** The first batch whose last offset is ≥ `offset`: the one holding it, or the next after a gap. */
  locate(offset: number): BatchLocation | undefined {
    if (offset >= this.nextOffset) return undefined;
    let found: BatchLocation | undefined;
    this.scan((b) => {
      if (b.lastOffset < offset) return true;
      found = b;
      return false;
    }, this.offsetIndex.lookup(offset));
    return found;
  }

  /** File position of the batch holding `offset` (where a read bounded by it must stop). */
  positionOf(offset: number): number {
    return this.locate(offset)?.position ?? this.size;
  }

  /**
   * Raw bytes of whole batches, starting with the batch holding `startOffset` (returned whole
   * even when `startOffset` is inside it), as many as fit in `maxBytes` — but at least that
   * first batch, however large (KIP-74) — and none at or past file position `maxPosition`.
   */
  read(
    startOffset: number,
    maxBytes: number,
    maxPosition = this.size,
    buffers?: ReadBufferPool,
  ): Buffer | undefined {
    const first = this.locate(startOffset);
    if (!first || first.position + first.size > maxPosition) return undefined;
    const length = Math.min(maxPosition - first.position, Math.max(maxBytes, first.size));
    return wholeBatches(readFullySync(this.fd, first.position, length, buffers?.take(length)), first.size);
  }

  /**
   * `read` through the thread pool: the index lookup, the scan of headers and the read of the
   * data all happen off the event loop. `maxOffset` bounds the read like `read`'s maxPosition
   * (none of the batch holding it); undefined reads to the end of the segment as it is now.
   */
  async readAsync(
    startOffset: number,
    maxBytes: number,
    maxOffset?: number,
    buffers?: ReadBufferPool,
  ): Promise<Buffer | undefined> {
    // What the segment holds now: appends that land meanwhile are for the next fetch.
    const size = this.size;
    const nextOffset = this.nextOffset;
    const fd = this.fd;
    this.readsInFlight++;
    try {
      const first = await this.locateAsync(fd, startOffset, size, nextOffset);
      if (!first) return undefined;
      const maxPosition =
        maxOffset === undefined || maxOffset >= nextOffset
          ? size
          : ((await this.locateAsync(fd, maxOffset, size, nextOffset))?.position ?? size);
      if (first.position + first.size > maxPosition) return undefined;
      const length = Math.min(maxPosition - first.position, Math.max(maxBytes, first.size));
      return wholeBatches(await readFully(fd, first.position, length, buffers?.take(length)), first.size);
    } finally {
      if (--this.readsInFlight === 0 && this.fdToClose >= 0) {
        const closing = this.fdToClose;
        this.fdToClose = -1;
        closeQuietly(closing);
      }
    }
  }

  private async locateAsync(
    fd: number,
    offset: number,
    size: number,
    nextOffset: number,
  ): Promise<BatchLocation | undefined> {
    if (offset >= nextOffset) return undefined;
    let found: BatchLocation | undefined;
    const from = this.offsetIndex.lookup(offset);
    await runScanAsync(
      fd,
      scanBatches({ from, to: size, verify: false, chunkBytes: LOOKUP_CHUNK }, (b) => {
        if (b.lastOffset < offset) return true;
        found = b;
        return false;
      }),
    );
    return found;
  }

  /** The bytes of one batch found by a scan. */
  readBatch(batch: BatchLocation): Buffer {
    return readFullySync(this.fd, batch.position, batch.size);
  }

  /** The first batch whose max timestamp is ≥ `timestamp`, using the time index to skip ahead. */
  findByTimestamp(timestamp: number): BatchLocation | undefined {
    if (this.maxTimestamp < timestamp) return undefined;
    const from = this.offsetIndex.lookup(this.timeIndex.startOffsetFor(timestamp));
    let found: BatchLocation | undefined;
    this.scan((b) => {
      if (b.maxTimestamp < timestamp) return true;
      found = b;
      return false;
    }, from);
    return found;
  }

  /** The timestamp segment.ms counts from: the first batch's max timestamp (-1 if unknown). */
  rollingBaseTimestamp(): number {
    if (this.firstBatchTimestamp === undefined) {
      this.firstBatchTimestamp = -1;
      if (this.size >= BATCH_HEADER_SIZE) {
        const header = readFullySync(this.fd, 0, BATCH_HEADER_SIZE);
        if (header.length === BATCH_HEADER_SIZE)
          this.firstBatchTimestamp = readInt64(header, BATCH_MAX_TIMESTAMP);
      }
    }
    return this.firstBatchTimestamp;
  }

  /** Largest record timestamp for retention, or the file's modification time without any. */
  get largestTimestamp(): number {
    return this.maxTimestamp >= 0 ? this.maxTimestamp : this.lastModifiedMs;
  }

  // ---- truncation, flush, lifecycle ----------------------------------------------------

  /**
   * Removes every batch from the one holding `offset` on (Kafka truncates whole batches).
   * Returns the number of bytes removed.
   */
  truncateTo(offset: number): number {
    if (offset >= this.nextOffset) return 0;
    const position = offset <= this.baseOffset ? 0 : this.positionOf(offset);
    const removed = this.size - position;
    ftruncateSync(this.fd, position);
    this.size = position;
    this.offsetIndex.truncateToPosition(position);
    this.timeIndex.truncateToOffset(offset);
    this.txnIndex.truncateFrom(offset);
    if (!this.restoreFromIndexes()) this.rebuildIndexes();
    if (position === 0) this.firstBatchTimestamp = -1;
    return removed;
  }

  /** fsyncs the log file; with `indexes`, also writes and fsyncs the index files. */
  flush(indexes: boolean): void {
    fsyncSync(this.fd);
    this.txnIndex.flush();
    if (indexes) this.persistIndexes(true);
  }

  /**
   * Writes the indexes, ending the time index with the segment's max timestamp (as Kafka does
   * when a segment becomes inactive) so a later load knows it without scanning.
   */
  persistIndexes(sync: boolean): void {
    this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    this.offsetIndex.persist(sync);
    this.timeIndex.persist(sync);
  }

  /** Renames the segment's files from the current suffix to `suffix` (the log file last). */
  changeFileSuffix(suffix: string): void {
    const indexPath = this.pathOf(INDEX_SUFFIX, suffix);
    const timeIndexPath = this.pathOf(TIME_INDEX_SUFFIX, suffix);
    this.offsetIndex.renameTo(indexPath);
    this.timeIndex.renameTo(timeIndexPath);
    this.txnIndex.renameTo(this.pathOf(TXN_INDEX_SUFFIX, suffix));
    renameSync(this.logPath, this.pathOf(LOG_SUFFIX, suffix));
    this.fileSuffix = suffix;
  }

  close(): void {
    try {
      this.persistIndexes(true);
    } finally {
      this.releaseFd(true);
    }
  }

  /** Closes without writing anything (the directory failed, or the segment is being dropped). */
  closeQuietly(): void {
    this.releaseFd(false);
  }

  /**
   * Gives up the descriptor. With asynchronous reads in flight it stays open until they end: a
   * descriptor number closed under a pending read could be reused by another file and the read
   * would return that file's bytes.
   */
  private releaseFd(strict: boolean): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    if (this.readsInFlight > 0) this.fdToClose = fd;
    else if (strict) closeSync(fd);
    else closeQuietly(fd);
  }

  /** Closes and removes the segment's files (the log file first, so no index outlives it). */
  delete(): void {
    this.closeQuietly();
    rmSync(this.logPath, { force: true });
    this.offsetIndex.deleteFile();
    this.timeIndex.deleteFile();
    this.txnIndex.deleteFile();
  }

  get isOpen(): boolean {
    return this.fd >= 0;
  }

  /** Whether the segment's files are still where we think (used by tests and checks). */
  filesExist(): boolean {
    return existsSync(this.logPath);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // The descriptor is unusable anyway; nothing more to do with it.
  }
}

/**
 * The whole batches at the start of `buf`, which starts with a batch of `firstSize` bytes
 * (undefined when even that one is not all there). Only batch lengths are read: no per-record work.
 */
function wholeBatches(buf: Buffer, firstSize: number): Buffer | undefined {
  if (buf.length < firstSize) return undefined;
  let end = firstSize;
  while (end + LOG_OVERHEAD <= buf.length) {
    const size = buf.readInt32BE(end + BATCH_LENGTH) + LOG_OVERHEAD;
    if (size < BATCH_HEADER_SIZE || end + size > buf.length) break;
    end += size;
  }
  return buf.subarray(0, end);
}
