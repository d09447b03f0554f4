import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { BATCH_HEADER_SIZE, LOG_OVERHEAD, RecordBatchHeader } from '@fjord/protocol';
import { SparseIndex } from './SparseIndex.js';

/** What one append adds to a segment; computed by the caller from batch headers. */
export interface AppendInfo {
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
  /** Offset of the first record carrying maxTimestamp's batch (its base offset suffices). */
  readonly offsetOfMaxTimestamp: number;
}

/** A batch found on disk: where it is and its header (a view over a small read buffer). */
export interface BatchLocation {
  readonly position: number;
  readonly size: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
  /** Producer fields, for rebuilding idempotence state from the log. */
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly recordCount: number;
  readonly isTransactional: boolean;
}

const SCAN_WINDOW = 1024 * 1024;

export function segmentFileName(baseOffset: number, suffix: string): string {
  return `${String(baseOffset).padStart(20, '0')}${suffix}`;
}

/**
 * One segment of a partition log: `<baseOffset>.log` holding record batches exactly as they
 * were appended, plus sparse offset and time indexes. Batches are located by index lookup
 * and a short scan of headers; records are never decoded here.
 */
export class LogSegment {
  private fd: number;
  size: number;
  /** Offset after the last batch in this segment. */
  nextOffset: number;
  maxTimestamp = -1;
  offsetOfMaxTimestamp = -1;
  private bytesSinceIndexEntry = 0;
  readonly created: number;
  private offsetIndex = new SparseIndex();
  private timeIndex = new SparseIndex();

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    private readonly indexIntervalBytes: number,
    fd: number,
    size: number,
    created: number,
  ) {
    this.fd = fd;
    this.size = size;
    this.nextOffset = baseOffset;
    this.created = created;
  }

  get logPath(): string {
    return join(this.dir, segmentFileName(this.baseOffset, '.log'));
  }

  static create(dir: string, baseOffset: number, indexIntervalBytes: number, now: number): LogSegment {
    const path = join(dir, segmentFileName(baseOffset, '.log'));
    const fd = openSync(path, 'w+');
    return new LogSegment(dir, baseOffset, indexIntervalBytes, fd, 0, now);
  }

  /**
   * Opens an existing segment. With `recover`, every batch is checked (size, magic, CRC) and
   * the file is truncated at the first bad one.
   */
  static open(
    dir: string,
    baseOffset: number,
    indexIntervalBytes: number,
    recover: boolean,
  ): { segment: LogSegment; truncatedBytes: number } {
    const path = join(dir, segmentFileName(baseOffset, '.log'));
    const fd = openSync(path, 'r+');
    const stat = fstatSync(fd);
    const segment = new LogSegment(dir, baseOffset, indexIntervalBytes, fd, stat.size, stat.mtimeMs);
    const truncatedBytes = segment.load(recover);
    return { segment, truncatedBytes };
  }

  /**
   * Rebuilds the indexes and summary by walking the batch headers (Kafka trusts its saved
   * indexes after a clean shutdown; a header walk is sequential I/O and keeps us simple).
   * With `recover`, each batch's CRC is checked too and the file is cut at the first bad one.
   */
  private load(recover: boolean): number {
    this.offsetIndex.clear();
    this.timeIndex.clear();
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = -1;
    this.nextOffset = this.baseOffset;
    let validEnd = 0;
    let indexedFrom = 0;
    for (const b of this.scan(0, this.size, recover)) {
      if (b === 'invalid') break;
      if (b.position === 0 || b.position - indexedFrom >= this.indexIntervalBytes) {
        this.addIndexEntry(b.baseOffset, b.position);
        indexedFrom = b.position;
      }
      if (b.maxTimestamp > this.maxTimestamp) {
        this.maxTimestamp = b.maxTimestamp;
        this.offsetOfMaxTimestamp = b.baseOffset;
      }
      this.nextOffset = b.lastOffset + 1;
      validEnd = b.position + b.size;
    }
    this.bytesSinceIndexEntry = validEnd - indexedFrom;
    const truncated = this.size - validEnd;
    if (truncated > 0) {
      ftruncateSync(this.fd, validEnd);
      this.size = validEnd;
    }
    return truncated;
  }

  /**
   * Walks batch headers from `from` to `to`. With `verify`, each whole batch is read and its
   * CRC checked; the walk yields 'invalid' and stops at a torn or damaged batch.
   */
  *scan(from: number, to: number, verify: boolean): Generator<BatchLocation | 'invalid'> {
    let window = Buffer.allocUnsafe(Math.min(SCAN_WINDOW, Math.max(BATCH_HEADER_SIZE, to - from)));
    let windowStart = from;
    let windowLen = 0;
    let pos = from;
    while (pos < to) {
      const need = verify ? LOG_OVERHEAD : BATCH_HEADER_SIZE;
      if (pos + LOG_OVERHEAD > to) {
        yield 'invalid';
        return;
      }
      let rel = pos - windowStart;
      if (rel + Math.min(need, to - pos) > windowLen) {
        windowStart = pos;
        windowLen = readSync(this.fd, window, 0, Math.min(window.length, to - pos), pos);
        rel = 0;
      }
      const size = window.readInt32BE(rel + 8) + LOG_OVERHEAD;
      if (size < BATCH_HEADER_SIZE || pos + size > to) {
        yield 'invalid';
        return;
      }
      if (rel + Math.min(size, verify ? size : BATCH_HEADER_SIZE) > windowLen) {
        if (size > window.length) window = Buffer.allocUnsafe(size);
        windowStart = pos;
        windowLen = readSync(this.fd, window, 0, Math.min(window.length, to - pos), pos);
        rel = 0;
      }
      const header = new RecordBatchHeader(window, rel);
      if (header.magic !== 2 || (verify && !header.isCrcValid())) {
        yield 'invalid';
        return;
      }
      const baseOffset = Number(header.baseOffset);
      yield {
        position: pos,
        size,
        baseOffset,
        lastOffset: baseOffset + header.lastOffsetDelta,
        maxTimestamp: Number(header.maxTimestamp),
        producerId: header.producerId,
        producerEpoch: header.producerEpoch,
        baseSequence: header.baseSequence,
        recordCount: header.recordCount,
        isTransactional: header.isTransactional,
      };
      pos += size;
    }
  }

  /** Appends batches whose offsets the caller has already stamped. One write, no copies. */
  append(data: Buffer, info: AppendInfo): void {
    const position = this.size;
    let written = 0;
    while (written < data.length)
      written += writeSync(this.fd, data, written, data.length - written, position + written);
    if (position === 0 || this.bytesSinceIndexEntry >= this.indexIntervalBytes) {
      this.addIndexEntry(info.firstOffset, position);
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += data.length;
    if (info.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = info.maxTimestamp;
      this.offsetOfMaxTimestamp = info.offsetOfMaxTimestamp;
    }
    this.size += data.length;
    this.nextOffset = info.lastOffset + 1;
  }

  /**
   * Index entries are taken together: offset → position, and the largest timestamp seen
   * *before* that batch → its offset, so a timestamp lookup knows where scanning can start.
   */
  private addIndexEntry(offset: number, position: number): void {
    this.offsetIndex.append(offset - this.baseOffset, position);
    this.timeIndex.append(this.maxTimestamp, offset - this.baseOffset);
  }

  /** The batch containing `offset` (or the first batch after it), scanning from the index. */
  locate(offset: number): BatchLocation | undefined {
    const from = this.offsetIndex.floor(offset - this.baseOffset, 0);
    for (const b of this.scan(from, this.size, false)) {
      if (b === 'invalid') return undefined;
      if (b.lastOffset >= offset) return b;
    }
    return undefined;
  }

  /**
   * Whole batches starting with the one containing `offset`, up to `maxBytes` (the first
   * batch is returned whole even when larger, as KIP-74 requires) and not past `maxPosition`.
   */
  read(offset: number, maxBytes: number, maxPosition = this.size): Buffer | undefined {
    const first = this.locate(offset);
    if (!first || first.position >= maxPosition) return undefined;
    let end = first.position + first.size;
    if (end - first.position < maxBytes) {
      for (const b of this.scan(end, maxPosition, false)) {
        if (b === 'invalid' || b.position + b.size - first.position > maxBytes) break;
        end = b.position + b.size;
      }
    }
    end = Math.min(end, maxPosition);
    const buf = Buffer.allocUnsafe(end - first.position);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(this.fd, buf, got, buf.length - got, first.position + got);
      if (n === 0) break;
      got += n;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  }

  /** File position where the batch containing `offset` starts (for read bounds), or size. */
  positionOf(offset: number): number {
    return this.locate(offset)?.position ?? this.size;
  }

  /** First batch whose max timestamp is ≥ `timestamp`. */
  findByTimestamp(timestamp: number): BatchLocation | undefined {
    if (this.maxTimestamp < timestamp) return undefined;
    // Every batch before the last entry whose preceding maximum is below `timestamp` is older.
    const rel = this.timeIndex.floor(timestamp - 0.5, 0);
    const from = this.offsetIndex.floor(rel, 0);
    for (const b of this.scan(from, this.size, false)) {
      if (b === 'invalid') return undefined;
      if (b.maxTimestamp >= timestamp) return b;
    }
    return undefined;
  }

  /** Removes every batch whose base offset is ≥ `offset`'s batch start. Returns bytes removed. */
  truncateTo(offset: number): number {
    if (offset >= this.nextOffset) return 0;
    const at = offset <= this.baseOffset ? 0 : this.positionOf(offset);
    const removed = this.size - at;
    ftruncateSync(this.fd, at);
    this.size = at;
    this.load(false);
    return removed;
  }

  flush(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }

  delete(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.logPath, { force: true });
  }
}
