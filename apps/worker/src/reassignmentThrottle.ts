import {
  FOLLOWER_THROTTLE_RATE_KEY,
  FOLLOWER_THROTTLED_REPLICAS_KEY,
  LEADER_THROTTLE_RATE_KEY,
  LEADER_THROTTLED_REPLICAS_KEY,
} from '@fjord/metadata';

export interface PartitionReplicas {
  readonly topic: string;
  readonly partition: number;
  readonly replicas: readonly number[];
}

/**
 * The topic configs that throttle one reassignment, as Kafka's ReassignPartitionsCommand sets
 * them: leader throttles on the replicas that hold a moving partition now (they serve the
 * catch-up), follower throttles on the replicas being added. Partitions that do not move get
 * neither, so their replication is never held back.
 */
export function throttledReplicasOf(
  layout: readonly PartitionReplicas[],
  plan: readonly PartitionReplicas[],
): Map<string, Record<string, string>> {
  const current = new Map(layout.map((p) => [`${p.topic}\u0000${p.partition}`, p.replicas]));
  const byTopic = new Map<string, { leader: string[]; follower: string[] }>();
  for (const move of plan) {
    const now = current.get(`${move.topic}\u0000${move.partition}`) ?? [];
    const added = move.replicas.filter((r) => !now.includes(r));
    if (added.length === 0) continue;
    let t = byTopic.get(move.topic);
    if (!t) {
      t = { leader: [], follower: [] };
      byTopic.set(move.topic, t);
    }
    for (const r of now) t.leader.push(`${move.partition}:${r}`);
    for (const r of added) t.follower.push(`${move.partition}:${r}`);
  }
  return new Map(
    [...byTopic].map(([topic, t]) => [
      topic,
      {
        [LEADER_THROTTLED_REPLICAS_KEY]: t.leader.join(','),
        [FOLLOWER_THROTTLED_REPLICAS_KEY]: t.follower.join(','),
      },
    ]),
  );
}

/** The per-broker rates of a throttled reassignment (bytes/s, each direction). */
export function throttleRates(bytesPerSecond: number): Record<string, string> {
  return {
    [LEADER_THROTTLE_RATE_KEY]: String(bytesPerSecond),
    [FOLLOWER_THROTTLE_RATE_KEY]: String(bytesPerSecond),
  };
}

export const THROTTLE_TOPIC_KEYS = [LEADER_THROTTLED_REPLICAS_KEY, FOLLOWER_THROTTLED_REPLICAS_KEY] as const;
export const THROTTLE_RATE_KEYS = [LEADER_THROTTLE_RATE_KEY, FOLLOWER_THROTTLE_RATE_KEY] as const;
