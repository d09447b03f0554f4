/**
 * Offsets of the fixed header of a record batch (magic 2). Reading and patching these
 * in place lets the broker append and serve client bytes without decoding records.
 */
import { crc32c } from './crc.js';

export const BATCH_BASE_OFFSET = 0;
export const BATCH_LENGTH = 8;
export const BATCH_PARTITION_LEADER_EPOCH = 12;
export const BATCH_MAGIC = 16;
export const BATCH_CRC = 17;
export const BATCH_ATTRIBUTES = 21;
export const BATCH_LAST_OFFSET_DELTA = 23;
export const BATCH_BASE_TIMESTAMP = 27;
export const BATCH_MAX_TIMESTAMP = 35;
export const BATCH_PRODUCER_ID = 43;
export const BATCH_PRODUCER_EPOCH = 51;
export const BATCH_BASE_SEQUENCE = 53;
export const BATCH_RECORD_COUNT = 57;
export const BATCH_RECORDS = 61;
/** Size of the batch header, and the smallest possible batch. */
export const BATCH_HEADER_SIZE = 61;
/** baseOffset + batchLength: the prefix shared by every magic. */
export const LOG_OVERHEAD = 12;
/** Bytes needed to read the magic byte of an entry of any format. */
export const MAGIC_PROBE_SIZE = 17;

export const ATTR_COMPRESSION_MASK = 0x07;
export const ATTR_TIMESTAMP_TYPE = 0x08;
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;
export const ATTR_DELETE_HORIZON = 0x40;

export const NO_PRODUCER_ID = -1n;
export const NO_SEQUENCE = -1;

/** A view over one batch at `offset` inside `buf`; reads fields lazily, never copies. */
export class RecordBatchHeader {
  constructor(
    readonly buf: Buffer,
    readonly offset = 0,
  ) {}

  get baseOffset(): bigint {
    return this.buf.readBigInt64BE(this.offset + BATCH_BASE_OFFSET);
  }
  set baseOffset(v: bigint) {
    this.buf.writeBigInt64BE(v, this.offset + BATCH_BASE_OFFSET);
  }
  /** Bytes after the length field. */
  get batchLength(): number {
    return this.buf.readInt32BE(this.offset + BATCH_LENGTH);
  }
  /** Total size of the batch on the wire / on disk. */
  get sizeInBytes(): number {
    return this.batchLength + LOG_OVERHEAD;
  }
  get partitionLeaderEpoch(): number {
    return this.buf.readInt32BE(this.offset + BATCH_PARTITION_LEADER_EPOCH);
  }
  set partitionLeaderEpoch(v: number) {
    this.buf.writeInt32BE(v, this.offset + BATCH_PARTITION_LEADER_EPOCH);
  }
  get magic(): number {
    return this.buf.readInt8(this.offset + BATCH_MAGIC);
  }
  get crc(): number {
    return this.buf.readUInt32BE(this.offset + BATCH_CRC);
  }
  get attributes(): number {
    return this.buf.readInt16BE(this.offset + BATCH_ATTRIBUTES);
  }
  set attributes(v: number) {
    this.buf.writeInt16BE(v, this.offset + BATCH_ATTRIBUTES);
  }
  get compression(): number {
    return this.attributes & ATTR_COMPRESSION_MASK;
  }
  get isLogAppendTime(): boolean {
    return (this.attributes & ATTR_TIMESTAMP_TYPE) !== 0;
  }
  get isTransactional(): boolean {
    return (this.attributes & ATTR_TRANSACTIONAL) !== 0;
  }
  get isControl(): boolean {
    return (this.attributes & ATTR_CONTROL) !== 0;
  }
  get lastOffsetDelta(): number {
    return this.buf.readInt32BE(this.offset + BATCH_LAST_OFFSET_DELTA);
  }
  get lastOffset(): bigint {
    return this.baseOffset + BigInt(this.lastOffsetDelta);
  }
  get baseTimestamp(): bigint {
    return this.buf.readBigInt64BE(this.offset + BATCH_BASE_TIMESTAMP);
  }
  set baseTimestamp(v: bigint) {
    this.buf.writeBigInt64BE(v, this.offset + BATCH_BASE_TIMESTAMP);
  }
  get maxTimestamp(): bigint {
    return this.buf.readBigInt64BE(this.offset + BATCH_MAX_TIMESTAMP);
  }
  set maxTimestamp(v: bigint) {
    this.buf.writeBigInt64BE(v, this.offset + BATCH_MAX_TIMESTAMP);
  }
  get producerId(): bigint {
    return this.buf.readBigInt64BE(this.offset + BATCH_PRODUCER_ID);
  }
  get producerEpoch(): number {
    return this.buf.readInt16BE(this.offset + BATCH_PRODUCER_EPOCH);
  }
  get baseSequence(): number {
    return this.buf.readInt32BE(this.offset + BATCH_BASE_SEQUENCE);
  }
  get recordCount(): number {
    return this.buf.readInt32BE(this.offset + BATCH_RECORD_COUNT);
  }

  /** CRC-32C over attributes..end, as stored batches must carry. */
  computeCrc(): number {
    return crc32c(this.buf.subarray(this.offset + BATCH_ATTRIBUTES, this.offset + this.sizeInBytes));
  }
  isCrcValid(): boolean {
    return this.computeCrc() === this.crc;
  }
  /** Recompute and store the CRC after fields covered by it were patched. */
  updateCrc(): void {
    this.buf.writeUInt32BE(this.computeCrc(), this.offset + BATCH_CRC);
  }
}

/**
 * Size of the entry (batch or legacy message) starting at `offset`, or -1 when fewer bytes
 * than the entry's size prefix promises are present (a torn tail).
 */
export function entrySizeAt(buf: Buffer, offset: number): number {
  if (buf.length - offset < LOG_OVERHEAD) return -1;
  const size = buf.readInt32BE(offset + BATCH_LENGTH) + LOG_OVERHEAD;
  return size < LOG_OVERHEAD || buf.length - offset < size ? -1 : size;
}
