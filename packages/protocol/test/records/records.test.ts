import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  batchesToMessageSet,
  buildMessage,
  buildRecordBatch,
  CompressionCodec,
  CompressionError,
  compress,
  crc32c,
  crc32Ieee,
  decodeRecords,
  decompress,
  messageSetToBatch,
  parseMessageSet,
  RecordBatchHeader,
  validateProduceRecords,
  wrapMessageSet,
} from '../../src/index.js';

const CODECS = [
  CompressionCodec.none,
  CompressionCodec.gzip,
  CompressionCodec.snappy,
  CompressionCodec.lz4,
  CompressionCodec.zstd,
];
const nullableBytes = fc.option(
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  { nil: null },
);
const record = fc.record({
  key: nullableBytes,
  value: nullableBytes,
  headers: fc.array(fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 8 }), value: nullableBytes }), {
    maxLength: 3,
  }),
  timestamp: fc.bigInt({ min: 0n, max: 4_000_000_000_000n }),
});

describe('CRC', () => {
  it('matches the standard check values', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32Ieee(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

describe('compression codecs', () => {
  it('round-trip every codec, including empty input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100_000 }), fc.constantFrom(...CODECS), (a, codec) => {
        const data = Buffer.from(a);
        expect(decompress(codec, compress(codec, data))).toEqual(data);
      }),
      { numRuns: 60 },
    );
  });

  it('writes snappy in snappy-java framing and also reads raw snappy', () => {
    const data = Buffer.from('kafka '.repeat(20_000));
    const framed = compress(CompressionCodec.snappy, data);
    expect(framed.subarray(0, 8)).toEqual(Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]));
    expect(framed.readInt32BE(8)).toBe(1);
    // Two 32 KiB blocks at least for 120 KB of input.
    expect(decompress(CompressionCodec.snappy, framed)).toEqual(data);
    const raw = framed.subarray(20, 20 + framed.readInt32BE(16));
    expect(decompress(CompressionCodec.snappy, raw)).toEqual(data.subarray(0, 32 * 1024));
  });

  it('refuses decompression bombs', () => {
    const bomb = compress(CompressionCodec.gzip, Buffer.alloc(10_000_000));
    expect(bomb.length).toBeLessThan(20_000);
    expect(() => decompress(CompressionCodec.gzip, bomb, 1_000_000)).toThrow(CompressionError);
    expect(() =>
      decompress(CompressionCodec.zstd, compress(CompressionCodec.zstd, Buffer.alloc(2_000_000)), 1_000_000),
    ).toThrow(CompressionError);
  });

  it('reports garbage as a CompressionError', () => {
    for (const codec of CODECS.slice(1))
      expect(() => decompress(codec, Buffer.from('not compressed at all'))).toThrow(CompressionError);
  });
});

describe('record batches (magic 2)', () => {
  it('round-trip records with every codec', () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 8 }),
        fc.constantFrom(...CODECS),
        fc.bigInt({ min: 0n, max: 1n << 40n }),
        (records, codec, base) => {
          const batch = buildRecordBatch({
            records,
            compression: codec,
            baseOffset: base,
            baseTimestamp: records[0]!.timestamp,
          });
          const h = new RecordBatchHeader(batch);
          expect(h.isCrcValid()).toBe(true);
          expect(h.sizeInBytes).toBe(batch.length);
          expect(h.recordCount).toBe(records.length);
          expect(h.compression).toBe(codec);
          const decoded = decodeRecords(batch);
          expect(decoded.map((r) => r.offset)).toEqual(records.map((_, i) => base + BigInt(i)));
          expect(
            decoded.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp })),
          ).toEqual(records);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('validator accepts client batches and rejects what Kafka rejects', () => {
    const batch = buildRecordBatch({ records: [{ value: Buffer.from('a') }, { value: Buffer.from('b') }] });
    const ok = validateProduceRecords(batch, { produceVersion: 7, maxBatchBytes: 1_000_000 });
    expect(ok.ok && ok.recordCount).toBe(2);
    expect(ok.ok && ok.data).toBe(batch);

    const corrupt = Buffer.from(batch);
    corrupt[corrupt.length - 1]! ^= 0xff;
    expect(validateProduceRecords(corrupt, { produceVersion: 7, maxBatchBytes: 1e6 })).toMatchObject({
      ok: false,
      error: 'CORRUPT_MESSAGE',
    });
    expect(
      validateProduceRecords(batch.subarray(0, batch.length - 3), { produceVersion: 7, maxBatchBytes: 1e6 }),
    ).toMatchObject({ ok: false, error: 'CORRUPT_MESSAGE' });
    expect(validateProduceRecords(batch, { produceVersion: 7, maxBatchBytes: 10 })).toMatchObject({
      ok: false,
      error: 'MESSAGE_TOO_LARGE',
    });
    expect(
      validateProduceRecords(Buffer.concat([batch, batch]), { produceVersion: 7, maxBatchBytes: 1e6 }),
    ).toMatchObject({ ok: false, error: 'INVALID_RECORD' });
    const legacy = buildMessage(1, 0n, 5n, null, Buffer.from('x'));
    expect(validateProduceRecords(legacy, { produceVersion: 3, maxBatchBytes: 1e6 })).toMatchObject({
      ok: false,
      error: 'INVALID_RECORD',
    });
  });
});

describe('legacy message sets (magic 0 and 1)', () => {
  it('convert to a v2 batch, including compressed wrappers with relative offsets', () => {
    const inner = Buffer.concat([
      buildMessage(1, 0n, 1000n, Buffer.from('k1'), Buffer.from('v1')),
      buildMessage(1, 1n, 1001n, null, Buffer.from('v2')),
    ]);
    for (const codec of [CompressionCodec.none, CompressionCodec.gzip, CompressionCodec.snappy]) {
      const set = codec === CompressionCodec.none ? inner : wrapMessageSet(inner, 1, codec, 1n, 1001n);
      const validated = validateProduceRecords(set, { produceVersion: 2, maxBatchBytes: 1e6 });
      expect(validated.ok).toBe(true);
      if (!validated.ok) return;
      expect(validated.converted).toBe(true);
      const records = decodeRecords(validated.data);
      expect(records.map((r) => [r.key?.toString() ?? null, r.value?.toString(), r.timestamp])).toEqual([
        ['k1', 'v1', 1000n],
        [null, 'v2', 1001n],
      ]);
    }
  });

  it('down-convert v2 batches for old fetch versions', () => {
    const batch = buildRecordBatch({
      baseOffset: 40n,
      baseTimestamp: 5000n,
      records: [
        { key: Buffer.from('a'), value: Buffer.from('1'), headers: [{ key: 'h', value: null }] },
        { value: null, timestamp: 5001n },
      ],
    });
    const v1 = parseMessageSet(batchesToMessageSet(batch, 1));
    expect(
      v1.map((m) => [m.offset, m.magic, m.timestamp, m.key?.toString() ?? null, m.value?.toString() ?? null]),
    ).toEqual([
      [40n, 1, 5000n, 'a', '1'],
      [41n, 1, 5001n, null, null],
    ]);
    const v0 = parseMessageSet(batchesToMessageSet(batch, 0, 41n));
    expect(v0.map((m) => [m.offset, m.magic, m.timestamp])).toEqual([[41n, 0, -1n]]);
    expect(messageSetToBatch(batchesToMessageSet(batch, 0)).length).toBeGreaterThan(61);
  });
});
