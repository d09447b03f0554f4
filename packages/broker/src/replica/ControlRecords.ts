import { buildRecordBatch, decodeRecords } from '@fjord/protocol';

/** Control record types of Kafka's ControlRecordType (the key's second int16). */
export const CONTROL_ABORT = 0;
export const CONTROL_COMMIT = 1;

export interface TxnMarker {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly coordinatorEpoch: number;
  readonly commit: boolean;
}

/**
 * The control batch Kafka writes for a transaction marker (EndTransactionMarker): one record,
 * key {version 0, type}, value {version 0, coordinator epoch}; transactional and control
 * attributes, the producer's id and epoch, no sequence.
 */
export function buildMarkerBatch(marker: TxnMarker, timestamp: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(marker.commit ? CONTROL_COMMIT : CONTROL_ABORT, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(marker.coordinatorEpoch, 2);
  return buildRecordBatch({
    records: [{ key, value }],
    baseTimestamp: BigInt(timestamp),
    producerId: marker.producerId,
    producerEpoch: marker.producerEpoch,
    baseSequence: -1,
    transactional: true,
    control: true,
  });
}

/** A control record as read from the log: its type, and a marker's coordinator epoch (-1 if none). */
export interface ControlRecord {
  readonly type: number;
  readonly coordinatorEpoch: number;
}

/**
 * The control record of the control batch at `pos` in `data` (COMMIT, ABORT, or another type
 * Kafka may add, which transaction state ignores); undefined when it has no readable record.
 */
export function controlRecordAt(data: Buffer, pos: number): ControlRecord | undefined {
  const [record] = decodeRecords(data, pos);
  const key = record?.key;
  if (!key || key.length < 4) return undefined;
  const value = record.value;
  return {
    type: key.readInt16BE(2),
    coordinatorEpoch: value && value.length >= 6 ? value.readInt32BE(2) : -1,
  };
}
