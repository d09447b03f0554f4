import { crc32c } from '@fjord/protocol';

/**
 * One producer's state in a snapshot (Kafka's ProducerStateEntry as its snapshot file stores
 * it): the last batch it wrote, the epoch of the last coordinator that sent it a marker and the
 * first offset of its open transaction.
 */
export interface ProducerSnapshotEntry {
  readonly producerId: bigint;
  readonly epoch: number;
  /** Last sequence of its last batch (-1: no data batch known, only transaction state). */
  readonly lastSequence: number;
  /** Last offset of its last batch (-1 when none). */
  readonly lastOffset: number;
  /** lastSequence minus the first sequence of that batch (= its last offset delta). */
  readonly offsetDelta: number;
  /** Max timestamp of its last batch. */
  readonly timestamp: number;
  /** -1: no marker seen. */
  readonly coordinatorEpoch: number;
  /** -1: no open transaction. */
  readonly currentTxnFirstOffset: number;
}

export const PRODUCER_SNAPSHOT_SUFFIX = '.snapshot';

const VERSION = 1;
const HEADER_SIZE = 2 + 4; // version, crc
const ENTRY_SIZE = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;

/**
 * Kafka's producer snapshot file (`<offset>.snapshot`, version 1): version int16, a CRC32C of
 * everything after it, then the entries as an int32-counted array. Byte-compatible with Kafka's,
 * so its tools read ours.
 */
export function encodeProducerSnapshot(entries: readonly ProducerSnapshotEntry[]): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_SIZE + 4 + entries.length * ENTRY_SIZE);
  buf.writeInt16BE(VERSION, 0);
  let pos = HEADER_SIZE;
  buf.writeInt32BE(entries.length, pos);
  pos += 4;
  for (const e of entries) {
    buf.writeBigInt64BE(e.producerId, pos);
    buf.writeInt16BE(e.epoch, pos + 8);
    buf.writeInt32BE(e.lastSequence, pos + 10);
    buf.writeBigInt64BE(BigInt(e.lastOffset), pos + 14);
    buf.writeInt32BE(e.offsetDelta, pos + 22);
    buf.writeBigInt64BE(BigInt(e.timestamp), pos + 26);
    buf.writeInt32BE(e.coordinatorEpoch, pos + 34);
    buf.writeBigInt64BE(BigInt(e.currentTxnFirstOffset), pos + 38);
    pos += ENTRY_SIZE;
  }
  buf.writeUInt32BE(crc32c(buf.subarray(HEADER_SIZE)), 2);
  return buf;
}

export class CorruptProducerSnapshotError extends Error {}

/** The entries of a snapshot file; throws CorruptProducerSnapshotError unless it is whole and intact. */
export function decodeProducerSnapshot(buf: Buffer): ProducerSnapshotEntry[] {
  if (buf.length < HEADER_SIZE + 4) throw new CorruptProducerSnapshotError(`too short: ${buf.length} bytes`);
  const version = buf.readInt16BE(0);
  if (version !== VERSION) throw new CorruptProducerSnapshotError(`unknown version ${version}`);
  if (buf.readUInt32BE(2) !== crc32c(buf.subarray(HEADER_SIZE)))
    throw new CorruptProducerSnapshotError('CRC mismatch');
  const count = buf.readInt32BE(HEADER_SIZE);
  if (count < 0 || buf.length !== HEADER_SIZE + 4 + count * ENTRY_SIZE)
    throw new CorruptProducerSnapshotError(`${count} entries do not fill ${buf.length} bytes`);
  const entries: ProducerSnapshotEntry[] = [];
  for (let i = 0, pos = HEADER_SIZE + 4; i < count; i++, pos += ENTRY_SIZE)
    entries.push({
      producerId: buf.readBigInt64BE(pos),
      epoch: buf.readInt16BE(pos + 8),
      lastSequence: buf.readInt32BE(pos + 10),
      lastOffset: Number(buf.readBigInt64BE(pos + 14)),
      offsetDelta: buf.readInt32BE(pos + 22),
      timestamp: Number(buf.readBigInt64BE(pos + 26)),
      coordinatorEpoch: buf.readInt32BE(pos + 34),
      currentTxnFirstOffset: Number(buf.readBigInt64BE(pos + 38)),
    });
  return entries;
}
