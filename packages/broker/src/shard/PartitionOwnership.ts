/**
 * Which shard of a many-core broker owns a partition, and how one request's partitions split
 * between shards and join again (docs/adr/0023-broker-on-many-cores.md). Pure: no threads, no I/O.
 *
 * A shard owns its partitions outright (log, producer state, replication, the group or
 * transaction coordinator of an internal-topic partition); a request that names partitions of
 * several shards is split by owner and its answers merged back in the request's order, which
 * Kafka clients expect.
 */

/** The shard that holds the control plane: metadata log, controller quorum, broker lifecycle. */
export const CONTROL_SHARD = 0;

/** Upper bound on shards: far above the cores a broker is given, low enough to catch a typo. */
export const MAX_SHARDS = 1024;

/** A partition named in a request. */
export interface PartitionRef {
  readonly topic: string;
  readonly partition: number;
}

/** The part of a request one shard handles: positions into the request's flat partition list. */
export interface ShardPlan {
  readonly shard: number;
  /** Ascending, so the shard sees its partitions in the order the client sent them. */
  readonly positions: readonly number[];
}

/** FNV-1a over the topic name's UTF-16 code units: stable across processes and restarts. */
function topicHash(topic: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < topic.length; i++) {
    h ^= topic.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class PartitionOwnership {
  constructor(readonly shardCount: number) {
    if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > MAX_SHARDS)
      throw new RangeError(`shard count must be an integer from 1 to ${MAX_SHARDS}, got ${shardCount}`);
  }

  /**
   * A topic's partitions go round-robin over the shards from an offset taken from its name, so
   * every topic is spread evenly and partition 0 of every topic does not land on one shard.
   */
  ownerOf(topic: string, partition: number): number {
    if (!Number.isInteger(partition) || partition < 0)
      throw new RangeError(`partition must be a non-negative integer, got ${partition}`);
    return (topicHash(topic) + partition) % this.shardCount;
  }

  /** Splits a request's partitions by owner; shards ascending, each shard's positions ascending. */
  plan(refs: readonly PartitionRef[]): ShardPlan[] {
    const byShard = new Map<number, number[]>();
    refs.forEach((ref, position) => {
      const shard = this.ownerOf(ref.topic, ref.partition);
      const positions = byShard.get(shard);
      if (positions) positions.push(position);
      else byShard.set(shard, [position]);
    });
    return [...byShard].sort(([a], [b]) => a - b).map(([shard, positions]) => ({ shard, positions }));
  }
}

/**
 * Puts each shard's answers (one per planned position, in the plan's order) back at the positions
 * of the request. A shard that answers a different number of partitions than it was given is a
 * bug in that shard, reported rather than papered over with a partial response.
 */
export function mergeInRequestOrder<T>(
  total: number,
  plans: readonly ShardPlan[],
  answers: readonly (readonly T[])[],
): T[] {
  if (answers.length !== plans.length)
    throw new Error(`${plans.length} shard plans but ${answers.length} shard answers`);
  const merged = new Array<T>(total);
  const filled = new Array<boolean>(total).fill(false);
  plans.forEach((plan, i) => {
    const got = answers[i]!;
    if (got.length !== plan.positions.length)
      throw new Error(`shard ${plan.shard} answered ${got.length} of ${plan.positions.length} partitions`);
    plan.positions.forEach((position, j) => {
      if (position < 0 || position >= total || filled[position])
        throw new Error(`shard ${plan.shard} answered position ${position} twice or out of range`);
      merged[position] = got[j]!;
      filled[position] = true;
    });
  });
  const missing = filled.indexOf(false);
  if (missing >= 0) throw new Error(`no shard answered position ${missing}`);
  return merged;
}
