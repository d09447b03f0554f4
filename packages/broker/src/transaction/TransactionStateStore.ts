import { batchOffsets, buildRecordBatch, decodeRecords, RecordBatchHeader } from '@fjord/protocol';
import type { Logger } from 'pino';
import { offsetsPartitionFor } from '../group/ConsumerOffsetsRecords.js';
import { awaitReplication } from '../replica/DelayedProduce.js';
import type { Partition } from '../replica/Partition.js';
import type { ReplicaManager } from '../replica/ReplicaManager.js';
import type { TransactionStateLog } from './TransactionCoordinator.js';
import {
  decodeTransactionLogKey,
  decodeTransactionLogValue,
  encodeTransactionLogKey,
  encodeTransactionLogValue,
  type TransactionLogValue,
} from './TransactionLogRecords.js';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

/**
 * The coordinator's state in `__transaction_state` (Kafka's TransactionStateManager's log side):
 * the partition of a transactional id (the same hash as groups), appends that count once on
 * every in-sync replica, and the replay of a partition a broker takes over.
 */
export class TransactionStateStore implements TransactionStateLog {
  constructor(
    private readonly replicas: ReplicaManager,
    private readonly partitions: number,
    private readonly now: () => number,
    private readonly log: Logger,
    /** request.timeout.ms of the state write (Kafka: transaction.state.log's append timeout). */
    private readonly writeTimeoutMs: number,
    /** min.insync.replicas of `__transaction_state` */
    private readonly minInsyncReplicas: () => number,
  ) {}

  partitionOf(transactionalId: string): number {
    return offsetsPartitionFor(transactionalId, this.partitions);
  }

  coordinatorEpoch(partition: number): number {
    return this.replicas.get(TRANSACTION_STATE_TOPIC, partition)?.leaderEpoch ?? -1;
  }

  async append(transactionalId: string, value: TransactionLogValue | null): Promise<void> {
    const partition = this.replicas.get(TRANSACTION_STATE_TOPIC, this.partitionOf(transactionalId));
    if (!partition)
      throw new Error(`${TRANSACTION_STATE_TOPIC} partition of ${transactionalId} is not hosted here`);
    const now = this.now();
    const batch = buildRecordBatch({
      records: [
        {
          key: encodeTransactionLogKey(transactionalId),
          value: value === null ? null : encodeTransactionLogValue(value),
        },
      ],
      baseTimestamp: BigInt(now),
    });
    const minIsr = this.minInsyncReplicas();
    const outcome = partition.appendAsLeader(batch, [], -1, minIsr, now);
    if (!outcome.ok) throw new Error(`cannot write transaction state: ${outcome.message}`);
    const [error] = await awaitReplication(
      [{ partition, requiredOffset: outcome.lastOffset + 1, minInsyncReplicas: minIsr }],
      this.writeTimeoutMs,
    );
    if (error) throw new Error(`transaction state not replicated: ${error}`);
  }

  /** The last value of every transactional id in the partition (null: a tombstone). */
  load(p: Partition): Map<string, TransactionLogValue | null> {
    const values = new Map<string, TransactionLogValue | null>();
    const log = p.log;
    let offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const data = log.read(offset, 8 * 1024 * 1024);
      if (!data) break;
      for (const pos of batchOffsets(data)) {
        offset = Math.max(offset, Number(new RecordBatchHeader(data, pos).lastOffset) + 1);
        for (const r of decodeRecords(data, pos)) {
          if (!r.key) continue;
          try {
            const id = decodeTransactionLogKey(r.key);
            if (id !== undefined) values.set(id, r.value ? decodeTransactionLogValue(r.value) : null);
          } catch (err) {
            this.log.warn({ err, offset: r.offset }, `skipping unreadable ${TRANSACTION_STATE_TOPIC} record`);
          }
        }
      }
    }
    return values;
  }
}
