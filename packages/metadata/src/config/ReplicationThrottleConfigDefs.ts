import type { ConfigKeyDef, ConfigValue } from './ConfigDef.js';

/**
 * Kafka's replication throttles (KIP-73), as `kafka-reassign-partitions --throttle` sets them:
 * per-broker byte rates for replication traffic (dynamic broker configs), applied to the
 * replicas a topic lists as `[partition]:[broker]` (or `*`), and only while such a replica is
 * out of the ISR, so a reassignment's catch-up cannot starve clients while in-sync replication
 * is never held back.
 */
export const LEADER_THROTTLE_RATE_KEY = 'leader.replication.throttled.rate';
export const FOLLOWER_THROTTLE_RATE_KEY = 'follower.replication.throttled.rate';
export const LEADER_THROTTLED_REPLICAS_KEY = 'leader.replication.throttled.replicas';
export const FOLLOWER_THROTTLED_REPLICAS_KEY = 'follower.replication.throttled.replicas';

const LONG_MAX = Number.MAX_SAFE_INTEGER;

export const REPLICATION_THROTTLE_RATE_DEFS: readonly ConfigKeyDef[] = [
  { name: LEADER_THROTTLE_RATE_KEY, type: 'long', default: LONG_MAX, validate: atLeastZero },
  { name: FOLLOWER_THROTTLE_RATE_KEY, type: 'long', default: LONG_MAX, validate: atLeastZero },
];

function atLeastZero(v: ConfigValue): string | undefined {
  return typeof v === 'number' && v < 0 ? 'must be at least 0' : undefined;
}

/** Kafka's ThrottledReplicaListValidator: `*`, or `partition:broker` pairs. */
export function validateThrottledReplicas(v: ConfigValue): string | undefined {
  const items = Array.isArray(v) ? v : [];
  if (items.length === 1 && items[0] === '*') return undefined;
  const bad = items.find((i) => !/^\d+:\d+$/.test(i));
  return bad === undefined ? undefined : `must be '*' or a list of [partitionId]:[brokerId] (got '${bad}')`;
}

/**
 * The partitions of one topic whose replica on `brokerId` the list throttles: `all` for `*`,
 * else the partition ids named with this broker.
 */
export function throttledPartitionsOn(list: string | null, brokerId: number): 'all' | ReadonlySet<number> {
  const items = (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 1 && items[0] === '*') return 'all';
  const partitions = new Set<number>();
  for (const item of items) {
    const [p, b] = item.split(':');
    if (Number(b) === brokerId) partitions.add(Number(p));
  }
  return partitions;
}
