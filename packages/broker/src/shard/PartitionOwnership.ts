/**
 * Which shard of a many-core broker owns a partition (docs/adr/0023-broker-on-many-cores.md).
 * Pure: no threads, no I/O.
 */

/** Upper bound on shards: far above the cores a broker is given, low enough to catch a typo. */
export const MAX_SHARDS = 1024;

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
}
