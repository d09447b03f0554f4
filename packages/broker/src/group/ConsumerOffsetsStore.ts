import { batchOffsets, buildRecordBatch, decodeRecords, RecordBatchHeader } from '@fjord/protocol';
import type { Logger } from 'pino';
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
import type { GroupCoordinator, GroupPersistence, OffsetEntry } from './GroupCoordinator.js';

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

  async storeGroup(group: string, value: GroupMetadataValue | null): Promise<void> {
    await this.append(group, [
      { key: encodeGroupMetadataKey(group), value: value === null ? null : encodeGroupMetadataValue(value) },
    ]);
  }

  private async append(group: string, records: { key: Buffer; value: Buffer | null }[]): Promise<void> {
    const partition = this.replicas.get(OFFSETS_TOPIC, this.partitionOf(group));
    if (!partition) throw new Error(`${OFFSETS_TOPIC} partition for group ${group} is not hosted here`);
    const now = this.now();
    const batch = buildRecordBatch({ records, baseTimestamp: BigInt(now) });
    const minIsr = this.minInsyncReplicas();
    const outcome = partition.appendAsLeader(batch, [], -1, minIsr, now);
    if (!outcome.ok) throw new Error(`cannot store group state: ${outcome.message}`);
    const [error] = await awaitReplication(
      [{ partition, requiredOffset: outcome.lastOffset + 1, minInsyncReplicas: minIsr }],
      this.commitTimeoutMs,
    );
    if (error) throw new Error(`group state not replicated: ${error}`);
  }

  /** Replays one `__consumer_offsets` partition this broker now leads into the coordinator. */
  loadPartition(coordinator: GroupCoordinator, p: Partition): number {
    return loadConsumerOffsets(coordinator, p.log, this.log);
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
): number {
  let records = 0;
  const groups = new Map<string, GroupMetadataValue | null>();
  let offset = partitionLog.logStartOffset;
  while (offset < partitionLog.logEndOffset) {
    const data = partitionLog.read(offset, 8 * 1024 * 1024);
    if (!data) break;
    for (const pos of batchOffsets(data)) {
      // Batches emptied by compaction still move the position on.
      offset = Math.max(offset, Number(new RecordBatchHeader(data, pos).lastOffset) + 1);
      for (const r of decodeRecords(data, pos)) {
        if (!r.key) continue;
        try {
          const key = decodeConsumerOffsetsKey(r.key);
          if (key?.kind === 'offset')
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
