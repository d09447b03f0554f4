import {
  BATCH_BASE_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH,
  BATCH_MAX_TIMESTAMP,
  LOG_OVERHEAD,
  RecordBatchHeader,
} from '@fjord/protocol';
import { readFully, readFullySync } from './FileIO.js';
import { readInt64 } from './Int64.js';

/** A batch found in a segment file: where it is and the header fields the log acts on. */
export interface BatchLocation {
  readonly position: number;
  readonly size: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
  readonly partitionLeaderEpoch: number;
  /** Producer fields, for rebuilding idempotence state from the log. */
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly recordCount: number;
  readonly isTransactional: boolean;
  readonly isControl: boolean;
}

/** Where a scan stopped: `invalid` names the first bad batch (torn or corrupt) when there is one. */
export interface ScanEnd {
  /** End of the last good batch visited (or where the visitor asked to stop). */
  readonly position: number;
  readonly invalid?: string;
}

/** A positional read the scan needs; the driver answers with the bytes (fewer at end of file). */
export interface ReadRequest {
  readonly position: number;
  readonly length: number;
}

export interface ScanOptions {
  readonly from: number;
  readonly to: number;
  /** Check every batch whole: magic, CRC-32C, offsets. Otherwise only headers are read. */
  readonly verify: boolean;
  /** Bytes per read; large for sequential verification, small for index-assisted lookups. */
  readonly chunkBytes: number;
  /** With `verify`: offsets must not go below this and must increase batch after batch. */
  readonly minBaseOffset?: number;
  /** With `verify`: offsets must stay within int32 of this (the segment's base offset). */
  readonly segmentBaseOffset?: number;
}

/**
 * Visits each batch; `bytes` holds the batch at `bytes[at]` (its whole body when verifying,
 * only its header otherwise) and is reused after the call. Return false to stop.
 */
export type BatchVisitor = (batch: BatchLocation, bytes: Buffer, at: number) => boolean | undefined;

const INT32_MAX = 2 ** 31 - 1;

/**
 * Walks batch headers from `from` to `to` without doing any I/O itself: it yields the reads it
 * needs, so the same logic runs over synchronous reads (hot paths) and asynchronous ones
 * (start-up recovery of several log dirs at once).
 */
export function* scanBatches(
  opts: ScanOptions,
  visit: BatchVisitor,
): Generator<ReadRequest, ScanEnd, Buffer> {
  let window: Buffer = Buffer.alloc(0);
  let windowStart = opts.from;
  let pos = opts.from;
  let expectedMin = opts.minBaseOffset ?? Number.NEGATIVE_INFINITY;
  const have = (n: number) => pos >= windowStart && pos + n <= windowStart + window.length;
  while (pos < opts.to) {
    const left = opts.to - pos;
    if (left < LOG_OVERHEAD) return { position: pos, invalid: `torn batch: ${left} trailing bytes` };
    if (!have(LOG_OVERHEAD)) {
      window = yield { position: pos, length: Math.min(left, Math.max(opts.chunkBytes, BATCH_HEADER_SIZE)) };
      windowStart = pos;
    }
    const size = window.readInt32BE(pos - windowStart + BATCH_LENGTH) + LOG_OVERHEAD;
    if (size < BATCH_HEADER_SIZE) return { position: pos, invalid: `batch size ${size} is too small` };
    if (size > left) return { position: pos, invalid: `torn batch: ${size} bytes, ${left} present` };
    const need = opts.verify ? size : BATCH_HEADER_SIZE;
    if (!have(need)) {
      window = yield { position: pos, length: Math.min(left, Math.max(opts.chunkBytes, need)) };
      windowStart = pos;
      if (window.length < need) return { position: pos, invalid: 'file ended inside a batch' };
    }
    const at = pos - windowStart;
    const header = new RecordBatchHeader(window, at);
    if (header.magic !== 2) return { position: pos, invalid: `magic ${header.magic}` };
    const baseOffset = readInt64(window, at + BATCH_BASE_OFFSET);
    const lastOffsetDelta = header.lastOffsetDelta;
    if (opts.verify) {
      if (!header.isCrcValid()) return { position: pos, invalid: 'CRC-32C mismatch' };
      if (lastOffsetDelta < 0 || header.recordCount < 0)
        return { position: pos, invalid: 'negative offset delta or record count' };
      if (baseOffset < expectedMin)
        return { position: pos, invalid: `base offset ${baseOffset} is below ${expectedMin}` };
      if (
        opts.segmentBaseOffset !== undefined &&
        baseOffset + lastOffsetDelta - opts.segmentBaseOffset > INT32_MAX
      )
        return { position: pos, invalid: `offset ${baseOffset} is out of the segment's range` };
    }
    const batch: BatchLocation = {
      position: pos,
      size,
      baseOffset,
      lastOffset: baseOffset + lastOffsetDelta,
      maxTimestamp: readInt64(window, at + BATCH_MAX_TIMESTAMP),
      partitionLeaderEpoch: header.partitionLeaderEpoch,
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      baseSequence: header.baseSequence,
      recordCount: header.recordCount,
      isTransactional: header.isTransactional,
      isControl: header.isControl,
    };
    expectedMin = batch.lastOffset + 1;
    if (visit(batch, window, at) === false) return { position: pos };
    pos += size;
  }
  return { position: pos };
}

const NO_BYTES = Buffer.alloc(0);

/** Read buffer shared by synchronous scans: allocating one per lookup costs more than the read. */
let sharedScratch: Buffer | undefined = Buffer.allocUnsafe(64 * 1024);

/** Runs a scan over synchronous positional reads, into one buffer shared between scans. */
export function runScanSync<T>(fd: number, scan: Generator<ReadRequest, T, Buffer>): T {
  // Taken while in use, so a scan started from inside a visitor gets its own buffer.
  let scratch = sharedScratch;
  sharedScratch = undefined;
  try {
    let step = scan.next(NO_BYTES);
    while (!step.done) {
      const req = step.value;
      if (!scratch || scratch.length < req.length)
        scratch = Buffer.allocUnsafe(Math.max(req.length, 64 * 1024));
      step = scan.next(readFullySync(fd, req.position, req.length, scratch));
    }
    return step.value;
  } finally {
    if (scratch && scratch.length <= 4 * 1024 * 1024) sharedScratch = scratch;
  }
}

/** Runs a scan over asynchronous reads (libuv's thread pool), so several disks work at once. */
export async function runScanAsync<T>(fd: number, scan: Generator<ReadRequest, T, Buffer>): Promise<T> {
  let scratch: Buffer | undefined;
  let step = scan.next(NO_BYTES);
  while (!step.done) {
    const req = step.value;
    if (!scratch || scratch.length < req.length) scratch = Buffer.allocUnsafe(req.length);
    step = scan.next(await readFully(fd, req.position, req.length, scratch));
  }
  return step.value;
}
