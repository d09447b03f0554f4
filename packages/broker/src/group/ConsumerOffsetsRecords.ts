import { Reader, Writer } from '@fjord/protocol';

/**
 * Records of `__consumer_offsets` in Kafka's own layouts (internal-records schemas), so
 * tools that read that topic keep working: OffsetCommitKey v1 / OffsetCommitValue v3 and
 * GroupMetadataKey v2 / GroupMetadataValue v3 with the members, as Kafka writes them from
 * 2.3 on (v3 is the first with group instance ids; v4 only makes it flexible). Every
 * GroupMetadataValue version Kafka ever wrote (v0–v4) decodes, since old logs may hold them.
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
  /** -1 when the record predates v2. */
  readonly currentStateTimestamp: bigint;
  readonly members: readonly GroupMemberMetadata[];
}

/** One member as Kafka persists it: only the subscription of the group's chosen protocol. */
export interface GroupMemberMetadata {
  readonly memberId: string;
  /** null before v3. */
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  /** -1 in v0 records, which had none (Kafka then uses the session timeout). */
  readonly rebalanceTimeout: number;
  readonly sessionTimeout: number;
  readonly subscription: Buffer;
  readonly assignment: Buffer;
}

/** The GroupMetadataValue version Fjord writes (Kafka's for metadata versions 2.3 and later). */
export const GROUP_METADATA_VALUE_VERSION = 3;

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
  const w = new Writer(128)
    .int16(GROUP_METADATA_VALUE_VERSION)
    .string(v.protocolType)
    .int32(v.generation)
    .nullableString(v.protocol)
    .nullableString(v.leader)
    .int64(v.currentStateTimestamp)
    .arrayLength(v.members.length);
  for (const m of v.members)
    w.string(m.memberId)
      .nullableString(m.groupInstanceId)
      .string(m.clientId)
      .string(m.clientHost)
      .int32(m.rebalanceTimeout)
      .int32(m.sessionTimeout)
      .bytes(m.subscription)
      .bytes(m.assignment);
  return w.toBuffer();
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

/** Decodes v0–v4; throws on other versions or truncated bytes (the loader skips such records). */
export function decodeGroupMetadataValue(value: Buffer): GroupMetadataValue {
  const r = new Reader(value);
  const version = r.int16();
  if (version < 0 || version > 4) throw new Error(`unknown GroupMetadataValue version ${version}`);
  const flexible = version >= 4;
  const str = () => (flexible ? r.compactString() : r.string());
  const nullableStr = () => (flexible ? r.compactNullableString() : r.nullableString());
  // Copies: the record is a view of a whole log read, which members must not keep alive.
  const bytes = () => Buffer.from(flexible ? r.compactBytes() : r.bytes());
  const protocolType = str();
  const generation = r.int32();
  const protocol = nullableStr();
  const leader = nullableStr();
  const currentStateTimestamp = version >= 2 ? r.int64() : -1n;
  const count = flexible ? r.compactArrayLength() : r.arrayLength();
  const members: GroupMemberMetadata[] = [];
  for (let i = 0; i < count; i++) {
    const memberId = str();
    const groupInstanceId = version >= 3 ? nullableStr() : null;
    const clientId = str();
    const clientHost = str();
    const rebalanceTimeout = version >= 1 ? r.int32() : -1;
    const sessionTimeout = r.int32();
    const subscription = bytes();
    const assignment = bytes();
    if (flexible) r.skipTaggedFields();
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      rebalanceTimeout,
      sessionTimeout,
      subscription,
      assignment,
    });
  }
  if (flexible) r.skipTaggedFields();
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members };
}

/** Kafka's partition for a group: abs(String.hashCode(groupId)) % partitions. */
export function offsetsPartitionFor(groupId: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < groupId.length; i++) h = (Math.imul(31, h) + groupId.charCodeAt(i)) | 0;
  // Kafka's Utils.abs maps Integer.MIN_VALUE to 0 rather than overflowing.
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}
