/**
 * Legacy message sets (magic 0 and 1, Kafka ≤ 0.10): parsing, building, and conversion to and
 * from record batches. Old clients' produce requests are converted to v2 batches on the way
 * in; fetch versions that predate v2 get their batches down-converted on the way out.
 */
import { CompressionCodec, compress, decompress } from '../compression/codecs.js';
import { ProtocolDecodeError } from '../wire/ProtocolDecodeError.js';
import { crc32Ieee } from './crc.js';
import { batchOffsets, buildRecordBatch, decodeRecords } from './RecordBatch.js';

export interface LegacyMessage {
  readonly offset: bigint;
  readonly magic: 0 | 1;
  /** -1 for magic 0. */
  readonly timestamp: bigint;
  readonly logAppendTime: boolean;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

const TIMESTAMP_TYPE = 0x08;

/**
 * Flattens a message set, unwrapping compressed wrapper messages. For magic 1 wrappers the
 * inner offsets are relative and the wrapper carries the absolute offset of the last one.
 */
export function parseMessageSet(buf: Buffer, maxDecompressedBytes?: number, depth = 0): LegacyMessage[] {
  const out: LegacyMessage[] = [];
  for (let pos = 0; pos + 12 <= buf.length; ) {
    const offset = buf.readBigInt64BE(pos);
    const size = buf.readInt32BE(pos + 8);
    // A partial trailing message is allowed in fetch responses; stop there.
    if (size < 14 || pos + 12 + size > buf.length) break;
    const msg = buf.subarray(pos + 12, pos + 12 + size);
    pos += 12 + size;
    if (msg.readUInt32BE(0) !== crc32Ieee(msg.subarray(4)))
      throw new ProtocolDecodeError('message CRC mismatch');
    const magic = msg.readInt8(4);
    if (magic !== 0 && magic !== 1)
      throw new ProtocolDecodeError(`unexpected magic ${magic} in a message set`);
    const attributes = msg.readInt8(5);
    let at = 6;
    let timestamp = -1n;
    if (magic === 1) {
      if (msg.length < 22) throw new ProtocolDecodeError('truncated message');
      timestamp = msg.readBigInt64BE(6);
      at = 14;
    }
    const readBytes = (): Buffer | null => {
      if (at + 4 > msg.length) throw new ProtocolDecodeError('truncated message');
      const len = msg.readInt32BE(at);
      at += 4;
      if (len < 0) return null;
      if (at + len > msg.length) throw new ProtocolDecodeError('truncated message');
      const b = msg.subarray(at, at + len);
      at += len;
      return b;
    };
    const key = readBytes();
    const value = readBytes();
    const codec = attributes & 0x07;
    const logAppendTime = magic === 1 && (attributes & TIMESTAMP_TYPE) !== 0;
    if (codec === CompressionCodec.none) {
      out.push({ offset, magic, timestamp, logAppendTime, key, value });
      continue;
    }
    if (depth > 0) throw new ProtocolDecodeError('nested compressed message');
    if (value === null) throw new ProtocolDecodeError('compressed wrapper without a value');
    const inner = parseMessageSet(
      decompress(codec, value, maxDecompressedBytes),
      maxDecompressedBytes,
      depth + 1,
    );
    const last = inner.length > 0 ? inner[inner.length - 1]!.offset : 0n;
    for (const m of inner) {
      out.push({
        ...m,
        offset: magic === 1 ? offset - last + m.offset : m.offset,
        timestamp: logAppendTime ? timestamp : m.timestamp,
        logAppendTime,
      });
    }
  }
  return out;
}

/** Encodes one legacy message entry (offset + size + message). */
export function buildMessage(
  magic: 0 | 1,
  offset: bigint,
  timestamp: bigint,
  key: Buffer | null,
  value: Buffer | null,
  attributes = 0,
): Buffer {
  const keyLen = key?.length ?? 0;
  const valueLen = value?.length ?? 0;
  const size = 4 + 1 + 1 + (magic === 1 ? 8 : 0) + 4 + keyLen + 4 + valueLen;
  const buf = Buffer.allocUnsafe(12 + size);
  buf.writeBigInt64BE(offset, 0);
  buf.writeInt32BE(size, 8);
  let at = 16;
  buf.writeInt8(magic, at++);
  buf.writeInt8(attributes, at++);
  if (magic === 1) {
    buf.writeBigInt64BE(timestamp, at);
    at += 8;
  }
  buf.writeInt32BE(key === null ? -1 : keyLen, at);
  at += 4;
  if (key) at += key.copy(buf, at);
  buf.writeInt32BE(value === null ? -1 : valueLen, at);
  at += 4;
  if (value) value.copy(buf, at);
  buf.writeUInt32BE(crc32Ieee(buf.subarray(16)), 12);
  return buf;
}

/** Converts an old client's message set into one v2 batch (offsets are assigned on append). */
export function messageSetToBatch(buf: Buffer, maxDecompressedBytes?: number): Buffer {
  const messages = parseMessageSet(buf, maxDecompressedBytes);
  if (messages.length === 0) throw new ProtocolDecodeError('empty message set');
  return buildRecordBatch({
    records: messages.map((m) => ({
      key: m.key,
      value: m.value,
      timestamp: m.timestamp < 0n ? -1n : m.timestamp,
    })),
    baseTimestamp: messages[0]!.timestamp < 0n ? -1n : messages[0]!.timestamp,
  });
}

/**
 * Down-converts v2 batches (as read from the log) to a legacy message set of `magic`, for
 * fetch versions that predate record batches. Headers cannot be represented and are dropped;
 * control batches are skipped. Only records at or after `fromOffset` are kept.
 */
export function batchesToMessageSet(batches: Buffer, magic: 0 | 1, fromOffset = 0n): Buffer {
  const parts: Buffer[] = [];
  for (const pos of batchOffsets(batches)) {
    if ((batches.readInt16BE(pos + 21) & 0x20) !== 0) continue;
    for (const r of decodeRecords(batches, pos)) {
      if (r.offset < fromOffset) continue;
      parts.push(buildMessage(magic, r.offset, r.timestamp, r.key, r.value));
    }
  }
  return Buffer.concat(parts);
}

/** Compresses a message set into a single wrapper message (used by tests that act as old clients). */
export function wrapMessageSet(
  messages: Buffer,
  magic: 0 | 1,
  codec: number,
  lastOffset: bigint,
  timestamp: bigint,
): Buffer {
  return buildMessage(magic, lastOffset, timestamp, null, compress(codec, messages), codec);
}
