import { Reader, Writer } from '@fjord/protocol';

/**
 * Records of `__consumer_offsets` in Kafka's own layouts (internal-records schemas), so
 * tools that read that topic keep working: OffsetCommitKey v1 / OffsetCommitValue v3 and
 * GroupMetadataKey v2 / GroupMetadataValue v3 (members are not persisted; see GroupCoordinator).
 */
export interface OffsetCommitValue {
  readonly offset: bigint;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: bigint;
}

export interface GroupMetadataValue {
  readonly protocolType: string;
  readonly generation: number;
  readonly protocol: string | null;
  readonly leader: string | null;
  readonly currentStateTimestamp: bigint;
}

export type ConsumerOffsetsKey =
  | { readonly kind: 'offset'; readonly group: string; readonly topic: string; readonly partition: number }
  | { readonly kind: 'group'; readonly group: string };

export function encodeOffsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return new Writer(64).int16(1).string(group).string(topic).int32(partition).toBuffer();
}

export function encodeOffsetCommitValue(v: OffsetCommitValue): Buffer {
  return new Writer(64)
    .int16(3)
    .int64(v.offset)
    .int32(v.leaderEpoch)
    .string(v.metadata)
    .int64(v.commitTimestamp)
    .toBuffer();
}

export function encodeGroupMetadataKey(group: string): Buffer {
  return new Writer(32).int16(2).string(group).toBuffer();
}

export function encodeGroupMetadataValue(v: GroupMetadataValue): Buffer {
  return new Writer(64)
    .int16(3)
    .string(v.protocolType)
    .int32(v.generation)
    .nullableString(v.protocol)
    .nullableString(v.leader)
    .int64(v.currentStateTimestamp)
    .arrayLength(0)
    .toBuffer();
}

export function decodeConsumerOffsetsKey(key: Buffer): ConsumerOffsetsKey | undefined {
  const r = new Reader(key);
  const version = r.int16();
  if (version === 0 || version === 1)
    return { kind: 'offset', group: r.string(), topic: r.string(), partition: r.int32() };
  if (version === 2) return { kind: 'group', group: r.string() };
  return undefined; // newer consumer/share group records: not ours
}

export function decodeOffsetCommitValue(value: Buffer): OffsetCommitValue {
  const r = new Reader(value);
  const version = r.int16();
  const offset = r.int64();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  const metadata = r.string();
  const commitTimestamp = r.int64();
  return { offset, leaderEpoch, metadata, commitTimestamp };
}

export function decodeGroupMetadataValue(value: Buffer): GroupMetadataValue {
  const r = new Reader(value);
  const version = r.int16();
  const protocolType = r.string();
  const generation = r.int32();
  const protocol = r.nullableString();
  const leader = r.nullableString();
  const currentStateTimestamp = version >= 2 ? r.int64() : -1n;
  return { protocolType, generation, protocol, leader, currentStateTimestamp };
}

/** Kafka's partition for a group: abs(String.hashCode(groupId)) % partitions. */
export function offsetsPartitionFor(groupId: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < groupId.length; i++) h = (Math.imul(31, h) + groupId.charCodeAt(i)) | 0;
  // Kafka's Utils.abs maps Integer.MIN_VALUE to 0 rather than overflowing.
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}
