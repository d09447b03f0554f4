import { describe, expect, it } from 'vitest';
import {
  decodeGroupMetadataValue,
  encodeGroupMetadataValue,
  type GroupMetadataValue,
} from '../../src/group/ConsumerOffsetsRecords.js';

// Reference bytes built by hand from internal-records/GroupMetadataValue.json, without the
// codec's Writer: what Kafka's generated serializer writes for each version.
const i16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const i32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const i64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
};
const str = (s: string | null) =>
  s === null ? i16(-1) : Buffer.concat([i16(Buffer.byteLength(s)), Buffer.from(s)]);
const bytes = (b: Buffer) => Buffer.concat([i32(b.length), b]);
// Flexible (v4) encodings; every length here is below 127, so the uvarint is one byte.
const cstr = (s: string | null) =>
  s === null ? Buffer.from([0]) : Buffer.concat([Buffer.from([Buffer.byteLength(s) + 1]), Buffer.from(s)]);
const cbytes = (b: Buffer) => Buffer.concat([Buffer.from([b.length + 1]), b]);
const noTags = Buffer.from([0]);

const subscription = Buffer.from([0, 1, 0, 0, 0, 1, 0, 1, 116, 255, 255, 255, 255]);
const assignment = Buffer.from([0, 1, 0, 0, 0, 1, 0, 1, 116, 0, 0, 0, 1, 0, 0, 0, 0]);

/** One member, laid out for `version`; fields a version lacks are left out. */
function memberBytes(version: number, groupInstanceId: string | null): Buffer {
  const flexible = version >= 4;
  const s = flexible ? cstr : str;
  const b = flexible ? cbytes : bytes;
  return Buffer.concat([
    s('rdkafka-1'),
    version >= 3 ? s(groupInstanceId) : Buffer.alloc(0),
    s('rdkafka'),
    s('/10.0.0.7'),
    version >= 1 ? i32(45_000) : Buffer.alloc(0),
    i32(30_000),
    b(subscription),
    b(assignment),
    flexible ? noTags : Buffer.alloc(0),
  ]);
}

function groupBytes(version: number, groupInstanceId: string | null = null): Buffer {
  const flexible = version >= 4;
  const s = flexible ? cstr : str;
  return Buffer.concat([
    i16(version),
    s('consumer'),
    i32(7),
    s('range'),
    s('rdkafka-1'),
    version >= 2 ? i64(1_700_000_000_000n) : Buffer.alloc(0),
    flexible ? Buffer.from([2]) : i32(1),
    memberBytes(version, groupInstanceId),
    flexible ? noTags : Buffer.alloc(0),
  ]);
}

const expected = (version: number, groupInstanceId: string | null = null): GroupMetadataValue => ({
  protocolType: 'consumer',
  generation: 7,
  protocol: 'range',
  leader: 'rdkafka-1',
  currentStateTimestamp: version >= 2 ? 1_700_000_000_000n : -1n,
  members: [
    {
      memberId: 'rdkafka-1',
      groupInstanceId: version >= 3 ? groupInstanceId : null,
      clientId: 'rdkafka',
      clientHost: '/10.0.0.7',
      rebalanceTimeout: version >= 1 ? 45_000 : -1,
      sessionTimeout: 30_000,
      subscription,
      assignment,
    },
  ],
});

describe('GroupMetadataValue', () => {
  it('is written as Kafka 2.3+ writes it: v3, byte for byte', () => {
    expect(encodeGroupMetadataValue(expected(3, 'pod-0'))).toEqual(groupBytes(3, 'pod-0'));
    expect(encodeGroupMetadataValue(expected(3, null))).toEqual(groupBytes(3, null));
  });

  it('decodes every version Kafka wrote, v0 to v4', () => {
    for (const version of [0, 1, 2, 3, 4])
      expect(decodeGroupMetadataValue(groupBytes(version, 'pod-0')), `v${version}`).toEqual(
        expected(version, 'pod-0'),
      );
  });

  it('skips tagged fields of v4 records it does not know', () => {
    const plain = groupBytes(4, null);
    // The group's trailing tagged-field section, with one unknown field (tag 5, 2 bytes).
    const tagged = Buffer.concat([plain.subarray(0, plain.length - 1), Buffer.from([1, 5, 2, 0xab, 0xcd])]);
    expect(decodeGroupMetadataValue(tagged)).toEqual(expected(4, null));
  });

  it('round-trips an empty group and a group with static and dynamic members', () => {
    const empty: GroupMetadataValue = {
      protocolType: 'consumer',
      generation: 12,
      protocol: null,
      leader: null,
      currentStateTimestamp: 5n,
      members: [],
    };
    expect(decodeGroupMetadataValue(encodeGroupMetadataValue(empty))).toEqual(empty);
    const two: GroupMetadataValue = {
      ...expected(3, 'pod-0'),
      members: [
        expected(3, 'pod-0').members[0]!,
        { ...expected(3).members[0]!, memberId: 'm-2', groupInstanceId: null, assignment: Buffer.alloc(0) },
      ],
    };
    expect(decodeGroupMetadataValue(encodeGroupMetadataValue(two))).toEqual(two);
  });

  it('does not keep the log buffer alive through member bytes', () => {
    // A record on its own ArrayBuffer (small Buffers otherwise share Node's pool slab).
    const record = Buffer.from(new Uint8Array(groupBytes(3)).buffer);
    const decoded = decodeGroupMetadataValue(record);
    expect(decoded.members[0]!.assignment.buffer).not.toBe(record.buffer);
  });

  it('rejects unknown versions and truncated records with an error, not a bad group', () => {
    const v5 = groupBytes(3);
    v5.writeInt16BE(5);
    expect(() => decodeGroupMetadataValue(v5)).toThrow(/version 5/);
    const whole = groupBytes(3);
    expect(() => decodeGroupMetadataValue(whole.subarray(0, whole.length - 3))).toThrow();
  });
});
