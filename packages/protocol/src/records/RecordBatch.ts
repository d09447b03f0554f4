import { CompressionCodec, compress, decompress } from '../compression/codecs.js';
import { ProtocolDecodeError } from '../wire/ProtocolDecodeError.js';
import { Reader } from '../wire/Reader.js';
import { Writer } from '../wire/Writer.js';
import { crc32c } from './crc.js';
import {
  ATTR_COMPRESSION_MASK,
  ATTR_CONTROL,
  ATTR_TIMESTAMP_TYPE,
  ATTR_TRANSACTIONAL,
  BATCH_ATTRIBUTES,
  BATCH_CRC,
  BATCH_HEADER_SIZE,
  BATCH_RECORDS,
  LOG_OVERHEAD,
  RecordBatchHeader,
} from './RecordBatchHeader.js';

export interface RecordHeader {
  readonly key: string;
  readonly value: Buffer | null;
}

export interface RecordInput {
  readonly key?: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: readonly RecordHeader[];
  /** Defaults to the batch's base timestamp. */
  readonly timestamp?: bigint;
}

export interface BatchInput {
  readonly records: readonly RecordInput[];
  readonly baseOffset?: bigint;
  readonly partitionLeaderEpoch?: number;
  readonly compression?: number;
  readonly logAppendTime?: boolean;
  readonly baseTimestamp?: bigint;
  readonly producerId?: bigint;
  readonly producerEpoch?: number;
  readonly baseSequence?: number;
  readonly transactional?: boolean;
  readonly control?: boolean;
}

export interface DecodedRecord {
  readonly offset: bigint;
  readonly timestamp: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: RecordHeader[];
}

/** Encodes one record batch (magic 2) with a correct CRC-32C. */
export function buildRecordBatch(input: BatchInput): Buffer {
  const baseTimestamp = input.baseTimestamp ?? input.records[0]?.timestamp ?? BigInt(Date.now());
  let maxTimestamp = baseTimestamp;
  const body = new Writer(256);
  input.records.forEach((rec, i) => {
    const ts = rec.timestamp ?? baseTimestamp;
    if (ts > maxTimestamp) maxTimestamp = ts;
    const r = new Writer(64);
    r.int8(0)
      .varlong(ts - baseTimestamp)
      .varint(i);
    writeVarBytes(r, rec.key ?? null);
    writeVarBytes(r, rec.value);
    const headers = rec.headers ?? [];
    r.varint(headers.length);
    for (const h of headers) {
      writeVarBytes(r, Buffer.from(h.key, 'utf8'));
      writeVarBytes(r, h.value);
    }
    const bytes = r.toBuffer();
    body.varint(bytes.length).raw(bytes);
  });
  const codec = input.compression ?? CompressionCodec.none;
  const records = compress(codec, body.toBuffer());
  let attributes = codec & ATTR_COMPRESSION_MASK;
  if (input.logAppendTime) attributes |= ATTR_TIMESTAMP_TYPE;
  if (input.transactional) attributes |= ATTR_TRANSACTIONAL;
  if (input.control) attributes |= ATTR_CONTROL;

  const w = new Writer(BATCH_HEADER_SIZE + records.length);
  w.int64(input.baseOffset ?? 0n)
    .int32(BATCH_HEADER_SIZE - LOG_OVERHEAD + records.length)
    .int32(input.partitionLeaderEpoch ?? -1)
    .int8(2)
    .uint32(0)
    .int16(attributes)
    .int32(Math.max(0, input.records.length - 1))
    .int64(baseTimestamp)
    .int64(maxTimestamp)
    .int64(input.producerId ?? -1n)
    .int16(input.producerEpoch ?? -1)
    .int32(input.baseSequence ?? -1)
    .int32(input.records.length);
  w.raw(records);
  const out = w.toBuffer();
  out.writeUInt32BE(crc32c(out.subarray(BATCH_ATTRIBUTES)), BATCH_CRC);
  return out;
}

function writeVarBytes(w: Writer, b: Buffer | null): void {
  if (b === null) w.varint(-1);
  else w.varint(b.length).raw(b);
}

function readVarBytes(r: Reader): Buffer | null {
  const len = r.varint();
  if (len < 0) return null;
  const at = r.pos;
  r.skip(len);
  return r.buf.subarray(at, at + len);
}

/**
 * Records of the batch at `offset` in `buf` (decompressing when needed). Keys and values of
 * uncompressed batches are views of `buf`.
 */
export function decodeRecords(buf: Buffer, offset = 0, maxDecompressedBytes?: number): DecodedRecord[] {
  const header = new RecordBatchHeader(buf, offset);
  if (header.magic !== 2) throw new ProtocolDecodeError(`not a v2 record batch (magic ${header.magic})`);
  const end = offset + header.sizeInBytes;
  if (end > buf.length || header.sizeInBytes < BATCH_HEADER_SIZE)
    throw new ProtocolDecodeError('truncated record batch');
  const payload = decompress(
    header.compression,
    buf.subarray(offset + BATCH_RECORDS, end),
    maxDecompressedBytes,
  );
  const baseOffset = header.baseOffset;
  const baseTimestamp = header.baseTimestamp;
  const logAppend = header.isLogAppendTime ? header.maxTimestamp : undefined;
  const count = header.recordCount;
  if (count < 0 || count > payload.length) throw new ProtocolDecodeError(`bad record count ${count}`);
  const r = new Reader(payload);
  const records: DecodedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const len = r.varint();
    if (len < 0 || len > r.remaining) throw new ProtocolDecodeError('record length exceeds the batch');
    const recordEnd = r.pos + len;
    r.int8(); // attributes, unused
    const tsDelta = r.varlong();
    const offsetDelta = r.varint();
    const key = readVarBytes(r);
    const value = readVarBytes(r);
    const headerCount = r.varint();
    if (headerCount < 0 || headerCount > r.remaining) throw new ProtocolDecodeError('bad header count');
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const k = readVarBytes(r);
      if (k === null) throw new ProtocolDecodeError('null header key');
      headers.push({ key: k.toString('utf8'), value: readVarBytes(r) });
    }
    if (r.pos !== recordEnd) throw new ProtocolDecodeError('record length does not match its fields');
    records.push({
      offset: baseOffset + BigInt(offsetDelta),
      timestamp: logAppend ?? baseTimestamp + tsDelta,
      key,
      value,
      headers,
    });
  }
  return records;
}

/** Walks the batches of a v2 record set: [offset of each batch]. Throws on a torn set. */
export function batchOffsets(buf: Buffer): number[] {
  const positions: number[] = [];
  for (let pos = 0; pos < buf.length; ) {
    if (buf.length - pos < LOG_OVERHEAD) throw new ProtocolDecodeError('truncated batch');
    const size = buf.readInt32BE(pos + 8) + LOG_OVERHEAD;
    if (size < BATCH_HEADER_SIZE || pos + size > buf.length) throw new ProtocolDecodeError('truncated batch');
    positions.push(pos);
    pos += size;
  }
  return positions;
}

/**
 * Positions (counted across the whole v2 record set) of the records that have no key. This
 * decodes every record, so the produce path calls it only for compacted topics, which must
 * refuse such records (Kafka's LogValidator.validateKey). Control batches are skipped.
 */
export function keylessRecordIndexes(buf: Buffer, maxDecompressedBytes?: number): number[] {
  const out: number[] = [];
  let index = 0;
  for (const pos of batchOffsets(buf)) {
    if (new RecordBatchHeader(buf, pos).isControl) continue;
    for (const record of decodeRecords(buf, pos, maxDecompressedBytes)) {
      if (record.key === null) out.push(index);
      index++;
    }
  }
  return out;
}

/**
 * Re-encodes every batch of a record set with `codec`, keeping producer id, epoch, sequence,
 * transactional flag and timestamps (a topic whose compression.type is not "producer").
 * Batches already in that codec are kept byte for byte.
 */
export function recompressBatches(records: Buffer, codec: number, maxDecompressedBytes?: number): Buffer {
  const parts: Buffer[] = [];
  for (const pos of batchOffsets(records)) {
    const h = new RecordBatchHeader(records, pos);
    const bytes = records.subarray(pos, pos + h.sizeInBytes);
    if (h.compression === codec || h.isControl) {
      parts.push(bytes);
      continue;
    }
    parts.push(
      buildRecordBatch({
        records: decodeRecords(records, pos, maxDecompressedBytes).map((r) => ({
          key: r.key,
          value: r.value,
          headers: r.headers,
          timestamp: r.timestamp,
        })),
        baseOffset: h.baseOffset,
        partitionLeaderEpoch: h.partitionLeaderEpoch,
        compression: codec,
        logAppendTime: h.isLogAppendTime,
        baseTimestamp: h.baseTimestamp,
        producerId: h.producerId,
        producerEpoch: h.producerEpoch,
        baseSequence: h.baseSequence,
        transactional: h.isTransactional,
      }),
    );
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
