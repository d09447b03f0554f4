import { batchOffsets, buildRecordBatch, decodeRecords, RecordBatchHeader } from '@fjord/protocol';
import type { Logger } from 'pino';
import { CONTROL_ABORT, CONTROL_COMMIT, controlRecordAt } from '../replica/ControlRecords.js';
import { awaitReplication } from '../replica/DelayedProduce.js';
import type { Partition } from '../replica/Partition.js';
import type { ReplicaManager } from '../replica/ReplicaManager.js';
import type { PartitionLog } from '../storage/PartitionLog.js';
import {
  decodeConsumerOffsetsKey,
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  type GroupMetadataValue,
  offsetsPartitionFor,
} from './ConsumerOffsetsRecords.js';
import {
  type GroupCoordinator,
  type GroupPersistence,
  type OffsetEntry,
  ProducerFencedError,
} from './GroupCoordinator.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

/**
 * Group state kept where Kafka keeps it: records in the compacted `__consumer_offsets` topic,
 * in the partition that owns the group. A write counts once it is on every in-sync replica,
 * like an acks=all produce, before the coordinator acknowledges a commit.
 */
export class ConsumerOffsetsStore implements GroupPersistence {
  constructor(
    private readonly replicas: ReplicaManager,
    private readonly partitions: () => number,
    private readonly now: () => number,
    private readonly log: Logger,
    /** offsets.commit.timeout.ms */
    private readonly commitTimeoutMs = 5000,
    /** min.insync.replicas of `__consumer_offsets` */
    private readonly minInsyncReplicas: () => number = () => 1,
  ) {}

  /** The `__consumer_offsets` partition that holds a group. */
  partitionOf(group: string): number {
    return offsetsPartitionFor(group, this.partitions());
  }

  async storeOffsets(group: string, offsets: readonly OffsetEntry[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.append(
      group,
      offsets.map((o) => ({
        key: encodeOffsetCommitKey(group, o.topic, o.partition),
        value: o.value === null ? null : encodeOffsetCommitValue(o.value),
      })),
    );
  }

  async storeTransactionalOffsets(
    group: string,
    producer: { readonly producerId: bigint; readonly producerEpoch: number },
    offsets: readonly OffsetEntry[],
  ): Promise<void> {
    if (offsets.length === 0) return;
    await this.append(
      group,
      offsets.map((o) => ({
        key: encodeOffsetCommitKey(group, o.topic, o.partition),
        value: o.value === null ? null : encodeOffsetCommitValue(o.value),
      })),
      producer,
    );
  }

  async storeGroup(group: string, value: GroupMetadataValue | null): Promise<void> {
    await this.append(group, [
      { key: encodeGroupMetadataKey(group), value: value === null ? null : encodeGroupMetadataValue(value) },
    ]);
  }

  /**
   * Appends group records acks=all. With a producer the batch is transactional (TxnOffsetCommit)
   * and opens the producer's transaction in this partition, as Kafka's group coordinator does;
   * an epoch below one its markers carried is fenced.
   */
  private async append(
    group: string,
    records: { key: Buffer; value: Buffer | null }[],
    producer?: { readonly producerId: bigint; readonly producerEpoch: number },
  ): Promise<void> {
    const partition = this.replicas.get(OFFSETS_TOPIC, this.partitionOf(group));
    if (!partition) throw new Error(`${OFFSETS_TOPIC} partition for group ${group} is not hosted here`);
    const now = this.now();
    if (producer) {
      const known = partition.producers.epochOf(producer.producerId);
      if (known !== undefined && producer.producerEpoch < known)
        throw new ProducerFencedError(`producer epoch ${producer.producerEpoch} is older than ${known}`);
    }
    const batch = buildRecordBatch({
      records,
      baseTimestamp: BigInt(now),
      ...(producer && {
        producerId: producer.producerId,
        producerEpoch: producer.producerEpoch,
        transactional: true,
      }),
    });
    const minIsr = this.minInsyncReplicas();
    const outcome = partition.appendAsLeader(batch, [], -1, minIsr, now);
    if (!outcome.ok) throw new Error(`cannot store group state: ${outcome.message}`);
    if (producer) partition.transactions.onData(producer.producerId, outcome.firstOffset);
    const [error] = await awaitReplication(
      [{ partition, requiredOffset: outcome.lastOffset + 1, minInsyncReplicas: minIsr }],
      this.commitTimeoutMs,
    );
    if (error) throw new Error(`group state not replicated: ${error}`);
  }

  /** Replays one `__consumer_offsets` partition this broker now leads into the coordinator. */
  loadPartition(coordinator: GroupCoordinator, p: Partition): number {
    return loadConsumerOffsets(
      coordinator,
      p.log,
      this.log,
      (group) => this.partitionOf(group) === p.partition,
    );
  }
}

/**
 * Replays a `__consumer_offsets` partition into the coordinator: offsets as they come, then each
 * group's last metadata record once (as Kafka does), so a group is rebuilt, and its members'
 * session timers started, exactly once. Unreadable records are skipped with a warning.
 * Returns the number of records replayed.
 */
export function loadConsumerOffsets(
  coordinator: GroupCoordinator,
  partitionLog: PartitionLog,
  log: Logger,
  /** Groups of this partition (transaction markers settle only theirs). */
  inPartition: (groupId: string) => boolean = () => true,
): number {
  let records = 0;
  const groups = new Map<string, GroupMetadataValue | null>();
  let offset = partitionLog.logStartOffset;
  while (offset < partitionLog.logEndOffset) {
    const data = partitionLog.read(offset, 8 * 1024 * 1024);
    if (!data) break;
    for (const pos of batchOffsets(data)) {
      const header = new RecordBatchHeader(data, pos);
      // Batches emptied by compaction still move the position on.
      offset = Math.max(offset, Number(header.lastOffset) + 1);
      if (header.isControl) {
        // A transaction marker: that producer's pending offsets (in this partition) are settled.
        const type = controlRecordAt(data, pos)?.type;
        if (type === CONTROL_COMMIT || type === CONTROL_ABORT)
          coordinator.completeTransaction(header.producerId, type === CONTROL_COMMIT, inPartition);
        continue;
      }
      const producerId = header.isTransactional ? header.producerId : undefined;
      for (const r of decodeRecords(data, pos)) {
        if (!r.key) continue;
        try {
          const key = decodeConsumerOffsetsKey(r.key);
          if (key?.kind === 'offset' && producerId !== undefined)
            coordinator.loadPendingOffset(producerId, key.group, {
              topic: key.topic,
              partition: key.partition,
              value: r.value ? decodeOffsetCommitValue(r.value) : null,
            });
          else if (key?.kind === 'offset')
            coordinator.loadOffset(
              key.group,
              key.topic,
              key.partition,
              r.value ? decodeOffsetCommitValue(r.value) : null,
            );
          else if (key?.kind === 'group') {
            const value = r.value ? decodeGroupMetadataValue(r.value) : null;
            // Re-inserted so the map's order is that of each group's last record.
            groups.delete(key.group);
            groups.set(key.group, value);
          }
          records++;
        } catch (err) {
          log.warn({ err, offset: r.offset }, 'skipping unreadable __consumer_offsets record');
        }
      }
    }
  }
  for (const [group, value] of groups) coordinator.loadGroup(group, value);
  return records;
}
