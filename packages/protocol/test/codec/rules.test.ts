import { describe, expect, it } from 'vitest';
import {
  decodeApiVersionsRequestV3,
  decodeFetchResponseV12,
  decodeMetadataRequestV1,
  decodeProduceRequestV3,
  encodeApiVersionsRequestV3,
  encodeCreateTopicsRequestV0,
  encodeFetchResponseV12,
  encodeJoinGroupRequestV0,
  encodeMetadataRequestV0,
  encodeMetadataRequestV1,
  encodeProduceRequestV3,
  encodeProduceResponseV0,
  encodeSyncGroupResponseV0,
} from '../../src/generated/messages/index.js';
import { decodeRequestHeader, encodeRequestFrame, encodeResponseFrame } from '../../src/wire/frames.js';
import { ProtocolDecodeError, UnsupportedVersionFieldError } from '../../src/wire/ProtocolDecodeError.js';
import { Reader } from '../../src/wire/Reader.js';
import { Writer } from '../../src/wire/Writer.js';

/** Only the fields one version carries: the codecs' input types name the fields of every version. */
const versionFields = <T>(fields: object): T => fields as T;

const bytes = (...parts: (number[] | string)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
const enc = (f: (w: Writer) => void) => {
  const w = new Writer(8);
  f(w);
  return w.toBuffer();
};

describe('hand-built byte vectors from the protocol spec', () => {
  it('ApiVersions v3 request: compact strings and an empty tagged section', () => {
    const wire = bytes([0x07], 'kcat-x', [0x04], '1.0', [0x00]);
    expect(decodeApiVersionsRequestV3(new Reader(wire))).toEqual({
      clientSoftwareName: 'kcat-x',
      clientSoftwareVersion: '1.0',
    });
    expect(
      enc((w) =>
        encodeApiVersionsRequestV3(w, { clientSoftwareName: 'kcat-x', clientSoftwareVersion: '1.0' }),
      ),
    ).toEqual(wire);
  });

  it('Metadata v1 request: null topics means all topics, empty array means none', () => {
    expect(decodeMetadataRequestV1(new Reader(bytes([0xff, 0xff, 0xff, 0xff])))).toMatchObject({
      topics: null,
    });
    const one = bytes([0, 0, 0, 1], [0, 3], 'abc');
    expect(decodeMetadataRequestV1(new Reader(one)).topics).toEqual([
      { topicId: '00000000-0000-0000-0000-000000000000', name: 'abc' },
    ]);
    expect(enc((w) => encodeMetadataRequestV1(w, versionFields({ topics: [{ name: 'abc' }] })))).toEqual(one);
  });

  it('Produce v3 request: transactional id, acks, timeout, records as a view of the frame', () => {
    const records = Buffer.from([1, 2, 3, 4, 5]);
    const wire = bytes(
      [0xff, 0xff],
      [0xff, 0xff],
      [0, 0, 0x75, 0x30],
      [0, 0, 0, 1],
      [0, 1],
      't',
      [0, 0, 0, 1],
      [0, 0, 0, 2],
      [0, 0, 0, 5],
      [1, 2, 3, 4, 5],
    );
    const decoded = decodeProduceRequestV3(new Reader(wire));
    expect(decoded).toEqual({
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ name: 't', partitionData: [{ index: 2, records }] }],
    });
    expect(decoded.topicData[0]!.partitionData[0]!.records!.buffer).toBe(wire.buffer);
    expect(enc((w) => encodeProduceRequestV3(w, decoded))).toEqual(wire);
  });

  it('request header v1 and v2 keep the client id as an int16-length string', () => {
    const v1 = encodeRequestFrame(3, 1, 42, 'cli', versionFields({ topics: null }));
    expect(v1.subarray(4, 17)).toEqual(bytes([0, 3], [0, 1], [0, 0, 0, 42], [0, 3], 'cli'));
    const v2 = encodeRequestFrame(18, 3, 7, 'cli', { clientSoftwareName: 'a', clientSoftwareVersion: 'b' });
    const h = decodeRequestHeader(v2.subarray(4));
    expect(h).toEqual({ apiKey: 18, apiVersion: 3, correlationId: 7, clientId: 'cli', headerSize: 14 });
    expect(v2.readInt32BE(0)).toBe(v2.length - 4);
  });

  it('ApiVersions responses always use response header v0', () => {
    const frame = Buffer.concat(
      encodeResponseFrame(18, 3, 9, { errorCode: 0, apiKeys: [], throttleTimeMs: 0 }),
    );
    // size, correlation id, then the body's error code right away (no tagged section in the header).
    expect(frame.subarray(4, 10)).toEqual(bytes([0, 0, 0, 9], [0, 0]));
    const meta = Buffer.concat(encodeResponseFrame(3, 9, 9, versionFields({ brokers: [], topics: [] })));
    expect(meta[8]).toBe(0); // header v1: empty tagged section after the correlation id
  });
});

describe('version rules', () => {
  it('refuses a non-ignorable field the version lacks, drops an ignorable one', () => {
    // CreateTopics v0 has no ValidateOnly, which is not ignorable: asking for it must fail loudly.
    const create = { topics: [], timeoutMs: 1000, validateOnly: true };
    expect(() => enc((w) => encodeCreateTopicsRequestV0(w, create))).toThrow(UnsupportedVersionFieldError);
    expect(() =>
      enc((w) => encodeCreateTopicsRequestV0(w, { ...create, validateOnly: false })),
    ).not.toThrow();
    // JoinGroup v0 has no RebalanceTimeoutMs, which is ignorable: silently dropped.
    const join = {
      groupId: 'g',
      sessionTimeoutMs: 1,
      rebalanceTimeoutMs: 5,
      memberId: '',
      protocolType: 'consumer',
      protocols: [],
    };
    expect(() => enc((w) => encodeJoinGroupRequestV0(w, join))).not.toThrow();
    // Produce v0 response has no ThrottleTimeMs; it is ignorable.
    expect(() =>
      enc((w) => encodeProduceResponseV0(w, { responses: [], throttleTimeMs: 100 })),
    ).not.toThrow();
    // SyncGroup v0 response: ThrottleTimeMs absent and ignorable, assignment present.
    expect(
      enc((w) =>
        encodeSyncGroupResponseV0(w, { throttleTimeMs: 5, errorCode: 0, assignment: Buffer.alloc(0) }),
      ),
    ).toEqual(bytes([0, 0], [0, 0, 0, 0]));
  });

  it('refuses null where the version cannot express it', () => {
    expect(() => enc((w) => encodeMetadataRequestV0(w, versionFields({ topics: null })))).toThrow(
      UnsupportedVersionFieldError,
    );
  });

  it('writes tagged fields only when non-default, and skips unknown tags on read', () => {
    const base = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [],
    };
    const plain = enc((w) => encodeFetchResponseV12(w, base));
    // Append an unknown tag (9) with 2 bytes to the top-level tagged section.
    const withUnknown = Buffer.concat([plain.subarray(0, plain.length - 1), bytes([1, 9, 2, 0xaa, 0xbb])]);
    expect(decodeFetchResponseV12(new Reader(withUnknown))).toEqual(
      decodeFetchResponseV12(new Reader(plain)),
    );
  });

  it('rejects lengths that exceed the frame before allocating', () => {
    const huge = bytes([0xff, 0xff], [0xff, 0xff], [0, 0, 0, 0], [0x7f, 0xff, 0xff, 0xff]);
    expect(() => decodeProduceRequestV3(new Reader(huge))).toThrow(ProtocolDecodeError);
    expect(() => decodeProduceRequestV3(new Reader(huge))).toThrow(/exceeds/);
  });
});
