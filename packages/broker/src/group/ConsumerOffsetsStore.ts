import { batchOffsets, buildRecordBatch, decodeRecords } from '@fjord/protocol';
import type { Logger } from 'pino';
import type { ReplicaManager } from '../replica/ReplicaManager.js';
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
 * in the partition that owns the group. Appends are fsynced-or-replicated like any acks=all
 * produce before the coordinator acknowledges a commit.
 */
export class ConsumerOffsetsStore implements GroupPersistence {
  constructor(
    private readonly replicas: ReplicaManager,
    private readonly partitions: () => number,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  async storeOffsets(group: string, offsets: readonly OffsetEntry[]): Promise<void> {
    if (offsets.length === 0) return;
    this.append(
      group,
      offsets.map((o) => ({
        key: encodeOffsetCommitKey(group, o.topic, o.partition),
        value: o.value === null ? null : encodeOffsetCommitValue(o.value),
      })),
    );
  }

  async storeGroup(group: string, value: GroupMetadataValue | null): Promise<void> {
    this.append(group, [
      { key: encodeGroupMetadataKey(group), value: value === null ? null : encodeGroupMetadataValue(value) },
    ]);
  }

  private append(group: string, records: { key: Buffer; value: Buffer | null }[]): void {
    const partition = this.replicas.get(OFFSETS_TOPIC, offsetsPartitionFor(group, this.partitions()));
    if (!partition) throw new Error(`${OFFSETS_TOPIC} partition for group ${group} is not hosted here`);
    const now = this.now();
    const batch = buildRecordBatch({ records, baseTimestamp: BigInt(now) });
    const outcome = partition.appendAsLeader(batch, [], -1, 1, now);
    if (!outcome.ok) throw new Error(`cannot store group state: ${outcome.message}`);
  }

  /** Replays every hosted `__consumer_offsets` partition into the coordinator. */
  load(coordinator: GroupCoordinator): number {
    let records = 0;
    for (const p of this.replicas.all()) {
      if (p.topic !== OFFSETS_TOPIC) continue;
      let offset = p.log.logStartOffset;
      while (offset < p.log.logEndOffset) {
        const data = p.log.read(offset, 8 * 1024 * 1024);
        if (!data) break;
        for (const pos of batchOffsets(data)) {
          for (const r of decodeRecords(data, pos)) {
            offset = Number(r.offset) + 1;
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
              else if (key?.kind === 'group')
                coordinator.loadGroup(key.group, r.value ? decodeGroupMetadataValue(r.value) : null);
              records++;
            } catch (err) {
              this.log.warn({ err, offset: r.offset }, 'skipping unreadable __consumer_offsets record');
            }
          }
        }
      }
    }
    return records;
  }
}
