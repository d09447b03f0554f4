import type { MetadataImage, PartitionState } from '../image/MetadataImage.js';
import type { MetadataRecord } from '../records.js';
import { applied } from './BrokerLifecyclePlanner.js';
import { buildPartitionChange, completedReassignment } from './PartitionChangeBuilder.js';

export type AlterPartitionError =
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'UNKNOWN_TOPIC_ID'
  | 'NOT_LEADER_OR_FOLLOWER'
  | 'FENCED_LEADER_EPOCH'
  | 'INVALID_UPDATE_VERSION'
  | 'INELIGIBLE_REPLICA'
  | 'INVALID_REQUEST'
  | 'STALE_BROKER_EPOCH';

export interface AlterPartitionItem {
  /** Topic id, or the topic name for requests of versions that carry names. */
  readonly topic: { readonly id: string } | { readonly name: string };
  readonly partition: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly newIsr: readonly number[];
}

export type AlterPartitionResult =
  | { readonly ok: true; readonly state: PartitionState }
  | { readonly ok: false; readonly error: AlterPartitionError };

/**
 * ISR changes proposed by partition leaders (KIP-497's AlterPartition), checked the way KRaft's
 * ReplicationControlManager checks them: the sender must be the leader of the current leader
 * epoch, the partition epoch must be the one it saw (else INVALID_UPDATE_VERSION: it raced
 * another change), and every replica added must be eligible. An accepted change may complete
 * a reassignment. Results come in request order, with the state after the change.
 */
export function planAlterPartition(
  image: MetadataImage,
  brokerId: number,
  brokerEpoch: number,
  items: readonly AlterPartitionItem[],
): { records: MetadataRecord[]; results: AlterPartitionResult[] } {
  const registration = image.brokers.get(brokerId);
  if (!registration || (brokerEpoch !== -1 && registration.brokerEpoch !== brokerEpoch))
    return { records: [], results: items.map(() => ({ ok: false, error: 'STALE_BROKER_EPOCH' })) };
  const records: MetadataRecord[] = [];
  const touched: { topicId: string; partition: number }[] = [];
  const results: (AlterPartitionResult | undefined)[] = items.map((item) => {
    const topic = 'id' in item.topic ? image.topicsById.get(item.topic.id) : image.topic(item.topic.name);
    if (!topic)
      return { ok: false, error: 'id' in item.topic ? 'UNKNOWN_TOPIC_ID' : 'UNKNOWN_TOPIC_OR_PARTITION' };
    const state = topic.partitions[item.partition];
    if (!state) return { ok: false, error: 'UNKNOWN_TOPIC_OR_PARTITION' };
    if (state.leader !== brokerId) return { ok: false, error: 'NOT_LEADER_OR_FOLLOWER' };
    if (item.leaderEpoch < state.leaderEpoch) return { ok: false, error: 'FENCED_LEADER_EPOCH' };
    if (item.leaderEpoch > state.leaderEpoch) return { ok: false, error: 'NOT_LEADER_OR_FOLLOWER' };
    if (item.partitionEpoch !== state.partitionEpoch) return { ok: false, error: 'INVALID_UPDATE_VERSION' };
    if (!item.newIsr.includes(brokerId) || item.newIsr.some((r) => !state.replicas.includes(r)))
      return { ok: false, error: 'INVALID_REQUEST' };
    if (item.newIsr.some((r) => !state.isr.includes(r) && !image.isReplicaEligible(state, r)))
      return { ok: false, error: 'INELIGIBLE_REPLICA' };
    const completion = completedReassignment(state, item.newIsr);
    const change = buildPartitionChange(image, topic.topicId, state, completion ?? { isr: item.newIsr });
    if (change) records.push(change);
    touched.push({ topicId: topic.topicId, partition: item.partition });
    return undefined;
  });
  const after = applied(image, records);
  let next = 0;
  return {
    records,
    results: results.map((r) => {
      if (r) return r;
      const t = touched[next++]!;
      return { ok: true, state: after.topicsById.get(t.topicId)!.partitions[t.partition]! };
    }),
  };
}
