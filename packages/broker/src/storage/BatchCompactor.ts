import {
  ATTR_COMPRESSION_MASK,
  ATTR_DELETE_HORIZON,
  BATCH_ATTRIBUTES,
  BATCH_BASE_TIMESTAMP,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH,
  BATCH_MAX_TIMESTAMP,
  BATCH_RECORD_COUNT,
  BATCH_RECORDS,
  compress,
  decompress,
  LOG_OVERHEAD,
  Reader,
  RecordBatchHeader,
  Writer,
} from '@fjord/protocol';

/** One record of a batch, located in the batch's (decompressed) records payload. */
export interface RawRecord {
  /** Offset of the record's length prefix in the payload, and the end of the record. */
  readonly start: number;
  readonly end: number;
  readonly attributes: number;
  readonly timestampDelta: bigint;
  readonly offsetDelta: number;
  /** Where the key field starts: everything from here to `end` is kept byte for byte. */
  readonly keyStart: number;
  readonly key: Buffer | null;
  /** A record with a null value is a tombstone: it deletes its key. */
  readonly isTombstone: boolean;
}

/** The records payload of a batch, decompressed when needed, with each record located. */
export function parseBatchRecords(batch: Buffer): { payload: Buffer; records: RawRecord[] } {
  const header = new RecordBatchHeader(batch);
  const payload = decompress(header.compression, batch.subarray(BATCH_RECORDS, header.sizeInBytes));
  const r = new Reader(payload);
  const records: RawRecord[] = [];
  for (let i = 0; i < header.recordCount; i++) {
    const start = r.pos;
    const length = r.varint();
    const end = r.pos + length;
    const attributes = r.int8();
    const timestampDelta = r.varlong();
    const offsetDelta = r.varint();
    const keyStart = r.pos;
    const keyLength = r.varint();
    let key: Buffer | null = null;
    if (keyLength >= 0) {
      key = payload.subarray(r.pos, r.pos + keyLength);
      r.skip(keyLength);
    }
    const valueLength = r.varint();
    records.push({
      start,
      end,
      attributes,
      timestampDelta,
      offsetDelta,
      keyStart,
      key,
      isTombstone: valueLength < 0,
    });
    r.pos = end;
  }
  return { payload, records };
}

export interface CompactBatchOptions {
  /** Whether the record at `offset` with `key` is the latest for its key (or must stay anyway). */
  readonly isLatest: (offset: number, key: Buffer) => boolean;
  readonly now: number;
  readonly deleteRetentionMs: number;
  /**
   * Keep a header-only batch when no record survives: it preserves the batch's last offset
   * (producer sequence state, the end of a cleaned segment group).
   */
  readonly keepEmpty: boolean;
}

export interface CompactedBatch {
  /** The batch to write: the original bytes when nothing changed, undefined when dropped. */
  readonly bytes: Buffer | undefined;
  readonly recordsRemoved: number;
  readonly tombstonesRemoved: number;
  /** When tombstones survive: the time after which they may go (-1 when none survive). */
  readonly deleteHorizon: number;
}

/**
 * Compacts one v2 batch: drops records superseded by a later record with the same key,
 * records without a key, and tombstones whose delete horizon has passed. Offsets are kept
 * (base offset and last offset delta unchanged; gaps appear). As in KIP-534, a batch that
 * keeps tombstones gets a delete horizon (now + delete.retention.ms) stored as its base
 * timestamp with attribute bit 6, so the tombstones survive that long from their first
 * cleaning and a later pass removes them. Compressed batches are decompressed and
 * recompressed with the same codec.
 */
export function compactBatch(batch: Buffer, opts: CompactBatchOptions): CompactedBatch {
  const header = new RecordBatchHeader(batch);
  const { payload, records } = parseBatchRecords(batch);
  const baseOffset = Number(header.baseOffset);
  const hasHorizon = (header.attributes & ATTR_DELETE_HORIZON) !== 0;
  const oldBaseTimestamp = header.baseTimestamp;
  const retainTombstones = hasHorizon ? opts.now < Number(oldBaseTimestamp) : true;
  let tombstonesRemoved = 0;
  const kept = records.filter((rec) => {
    if (rec.key === null) return false;
    if (!opts.isLatest(baseOffset + rec.offsetDelta, rec.key)) return false;
    if (rec.isTombstone && !retainTombstones) {
      tombstonesRemoved++;
      return false;
    }
    return true;
  });
  const keepsTombstones = kept.some((rec) => rec.isTombstone);
  const needsHorizon = keepsTombstones && !hasHorizon;
  const deleteHorizon = !keepsTombstones
    ? -1
    : hasHorizon
      ? Number(oldBaseTimestamp)
      : opts.now + opts.deleteRetentionMs;
  const recordsRemoved = records.length - kept.length;
  if (recordsRemoved === 0 && !needsHorizon)
    return { bytes: batch, recordsRemoved: 0, tombstonesRemoved: 0, deleteHorizon };
  if (kept.length === 0)
    return {
      bytes: opts.keepEmpty ? emptyBatch(batch) : undefined,
      recordsRemoved,
      tombstonesRemoved,
      deleteHorizon: -1,
    };

  const bytes = rebuildBatch(batch, payload, kept, needsHorizon ? deleteHorizon : undefined);
  return { bytes, recordsRemoved, tombstonesRemoved, deleteHorizon };
}

/**
 * A transaction marker whose transaction has no records left may go once readers had
 * delete.retention.ms to see it (Kafka's rule for markers, with KIP-534's horizon): the first
 * cleaning stamps the horizon, a pass after it drops the marker.
 */
export function markerWithDeleteHorizon(batch: Buffer, horizon: number): Buffer {
  const { payload, records } = parseBatchRecords(batch);
  return rebuildBatch(batch, payload, records, horizon);
}

/** The delete horizon a cleaner stamped on the batch, or undefined. */
export function deleteHorizonOf(batch: Buffer): number | undefined {
  const header = new RecordBatchHeader(batch);
  return (header.attributes & ATTR_DELETE_HORIZON) !== 0 ? Number(header.baseTimestamp) : undefined;
}

/**
 * The batch with only `kept` of its records (recompressed with its codec) and, given a horizon,
 * the horizon as its base timestamp with attribute bit 6 (KIP-534), each record's timestamp
 * re-expressed against it.
 */
function rebuildBatch(
  batch: Buffer,
  payload: Buffer,
  kept: readonly RawRecord[],
  horizon: number | undefined,
): Buffer {
  const header = new RecordBatchHeader(batch);
  const oldBaseTimestamp = header.baseTimestamp;
  const newBaseTimestamp = horizon !== undefined ? BigInt(horizon) : oldBaseTimestamp;
  let maxTimestamp = -1n;
  const body = new Writer(payload.length);
  for (const rec of kept) {
    const timestamp = oldBaseTimestamp + rec.timestampDelta;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    if (newBaseTimestamp === oldBaseTimestamp) {
      body.raw(payload.subarray(rec.start, rec.end));
      continue;
    }
    const fields = new Writer(rec.end - rec.start + 10)
      .int8(rec.attributes)
      .varlong(timestamp - newBaseTimestamp)
      .varint(rec.offsetDelta)
      .raw(payload.subarray(rec.keyStart, rec.end))
      .toBuffer();
    body.varint(fields.length).raw(fields);
  }
  const compressed = compress(header.compression, body.toBuffer());
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + compressed.length);
  batch.copy(out, 0, 0, BATCH_HEADER_SIZE);
  compressed.copy(out, BATCH_HEADER_SIZE);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH);
  if (horizon !== undefined) out.writeInt16BE(header.attributes | ATTR_DELETE_HORIZON, BATCH_ATTRIBUTES);
  out.writeBigInt64BE(newBaseTimestamp, BATCH_BASE_TIMESTAMP);
  out.writeBigInt64BE(header.isLogAppendTime ? header.maxTimestamp : maxTimestamp, BATCH_MAX_TIMESTAMP);
  out.writeInt32BE(kept.length, BATCH_RECORD_COUNT);
  new RecordBatchHeader(out).updateCrc();
  return out;
}

/** The batch's header alone: no records, no compression, same offsets and producer fields. */
export function emptyBatch(batch: Buffer): Buffer {
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
  batch.copy(out, 0, 0, BATCH_HEADER_SIZE);
  out.writeInt32BE(BATCH_HEADER_SIZE - LOG_OVERHEAD, BATCH_LENGTH);
  out.writeInt16BE(out.readInt16BE(BATCH_ATTRIBUTES) & ~ATTR_COMPRESSION_MASK, BATCH_ATTRIBUTES);
  out.writeInt32BE(0, BATCH_RECORD_COUNT);
  new RecordBatchHeader(out).updateCrc();
  return out;
}
