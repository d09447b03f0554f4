import type { MetadataImage, PartitionState } from '../image/MetadataImage.js';
import type { MetadataRecord } from '../records.js';
import { buildPartitionChange } from './PartitionChangeBuilder.js';

export type ElectionType = 'preferred' | 'unclean';

export type ElectionError =
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'ELECTION_NOT_NEEDED'
  | 'PREFERRED_LEADER_NOT_AVAILABLE'
  | 'ELIGIBLE_LEADERS_NOT_AVAILABLE';

export type ElectionResult = { readonly ok: true } | { readonly ok: false; readonly error: ElectionError };

/**
 * ElectLeaders (KIP-460). Preferred: the first replica takes over when it is eligible and in the
 * ISR. Unclean: only for a partition without a leader, any eligible replica may take over.
 */
export function planElectLeaders(
  image: MetadataImage,
  type: ElectionType,
  partitions: readonly { readonly topic: string; readonly partition: number }[],
): { records: MetadataRecord[]; results: ElectionResult[] } {
  const records: MetadataRecord[] = [];
  const results = partitions.map(({ topic, partition }): ElectionResult => {
    const t = image.topic(topic);
    const state = t?.partitions[partition];
    if (!t || !state) return { ok: false, error: 'UNKNOWN_TOPIC_OR_PARTITION' };
    if (type === 'preferred') {
      if (state.leader === state.replicas[0]) return { ok: false, error: 'ELECTION_NOT_NEEDED' };
      const change = buildPartitionChange(image, t.topicId, state, { election: 'preferred' });
      if (!change || change.leader !== state.replicas[0])
        return { ok: false, error: 'PREFERRED_LEADER_NOT_AVAILABLE' };
      records.push(change);
      return { ok: true };
    }
    if (state.leader >= 0) return { ok: false, error: 'ELECTION_NOT_NEEDED' };
    const change = buildPartitionChange(image, t.topicId, state, { election: 'unclean' });
    if (!change || change.leader === undefined || change.leader < 0)
      return { ok: false, error: 'ELIGIBLE_LEADERS_NOT_AVAILABLE' };
    records.push(change);
    return { ok: true };
  });
  return { records, results };
}

/** Every partition of the image (for "all partitions" elections). */
export function allPartitions(image: MetadataImage): { topic: string; partition: number }[] {
  const out: { topic: string; partition: number }[] = [];
  for (const t of image.topicsByName.values())
    for (const p of t.partitions) if (p) out.push({ topic: t.name, partition: p.partition });
  return out;
}

/**
 * Automatic leader rebalance (auto.leader.rebalance.enable): for each broker whose share of
 * partitions it prefers but does not lead exceeds `imbalancePercent`, preferred elections
 * for those partitions where the preferred replica can take over.
 */
export function planLeaderRebalance(image: MetadataImage, imbalancePercent: number): MetadataRecord[] {
  const preferredOf = new Map<number, { topicId: string; state: PartitionState }[]>();
  for (const t of image.topicsById.values())
    for (const p of t.partitions) {
      const preferred = p?.replicas[0];
      if (preferred === undefined) continue;
      const list = preferredOf.get(preferred) ?? [];
      list.push({ topicId: t.topicId, state: p });
      preferredOf.set(preferred, list);
    }
  const records: MetadataRecord[] = [];
  for (const [broker, list] of preferredOf) {
    const notLed = list.filter((x) => x.state.leader !== broker);
    if (notLed.length === 0 || (notLed.length * 100) / list.length <= imbalancePercent) continue;
    for (const { topicId, state } of notLed) {
      const change = buildPartitionChange(image, topicId, state, { election: 'preferred' });
      if (change && change.leader === broker) records.push(change);
    }
  }
  return records;
}
