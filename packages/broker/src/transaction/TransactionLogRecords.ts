import { Reader, Writer } from '@fjord/protocol';

/** Kafka's TransactionState, as the TransactionLogValue's status byte numbers it. */
export type TransactionState =
  | 'Empty'
  | 'Ongoing'
  | 'PrepareCommit'
  | 'PrepareAbort'
  | 'CompleteCommit'
  | 'CompleteAbort'
  | 'Dead'
  | 'PrepareEpochFence';

/** In status-byte order. */
export const TRANSACTION_STATES: readonly TransactionState[] = [
  'Empty',
  'Ongoing',
  'PrepareCommit',
  'PrepareAbort',
  'CompleteCommit',
  'CompleteAbort',
  'Dead',
  'PrepareEpochFence',
];

/** One record value of `__transaction_state` (TransactionLogValue), the partitions by topic. */
export interface TransactionLogValue {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly timeoutMs: number;
  readonly state: TransactionState;
  readonly partitions: ReadonlyMap<string, readonly number[]>;
  readonly lastUpdateMs: number;
  readonly startMs: number;
}

/** TransactionLogKey v0: the transactional id. */
export function encodeTransactionLogKey(transactionalId: string): Buffer {
  return new Writer(32).int16(0).string(transactionalId).toBuffer();
}

export function decodeTransactionLogKey(key: Buffer): string | undefined {
  const r = new Reader(key);
  return r.int16() === 0 ? r.string() : undefined;
}

/**
 * TransactionLogValue v0, what Kafka writes unless transactions v2 are on. Partitions are
 * written only for states that have them, as Kafka does (null otherwise is accepted on read).
 */
export function encodeTransactionLogValue(v: TransactionLogValue): Buffer {
  const w = new Writer(128)
    .int16(0)
    .int64(v.producerId)
    .int16(v.producerEpoch)
    .int32(v.timeoutMs)
    .int8(TRANSACTION_STATES.indexOf(v.state));
  w.arrayLength(v.partitions.size);
  for (const [topic, partitions] of v.partitions) {
    w.string(topic).arrayLength(partitions.length);
    for (const p of partitions) w.int32(p);
  }
  return w.int64(BigInt(v.lastUpdateMs)).int64(BigInt(v.startMs)).toBuffer();
}

/** Decodes v0 and the flexible v1 (tagged fields skipped); throws on anything else. */
export function decodeTransactionLogValue(value: Buffer): TransactionLogValue {
  const r = new Reader(value);
  const version = r.int16();
  if (version !== 0 && version !== 1) throw new Error(`TransactionLogValue version ${version}`);
  const flexible = version === 1;
  const producerId = r.int64();
  const producerEpoch = r.int16();
  const timeoutMs = r.int32();
  const status = r.int8();
  const state = TRANSACTION_STATES[status];
  if (!state) throw new Error(`unknown transaction status ${status}`);
  const partitions = new Map<string, number[]>();
  const topics = flexible ? r.compactNullableArrayLength() : r.nullableArrayLength();
  for (let i = 0; i < topics; i++) {
    const topic = flexible ? r.compactString() : r.string();
    const n = flexible ? r.compactArrayLength() : r.arrayLength();
    const ids: number[] = [];
    for (let j = 0; j < n; j++) ids.push(r.int32());
    if (flexible) r.skipTaggedFields();
    partitions.set(topic, ids);
  }
  const lastUpdateMs = Number(r.int64());
  const startMs = Number(r.int64());
  return { producerId, producerEpoch, timeoutMs, state, partitions, lastUpdateMs, startMs };
}
