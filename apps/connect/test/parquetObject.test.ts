import { readParquetRows } from '@fjord/test-support/parquet';
import { describe, expect, it } from 'vitest';
import { JSON_LINES_GZIP, PARQUET } from '../src/s3/objectFormats.js';
import { jsonLine, objectKey, placementFailure, type SinkRecord } from '../src/s3/objectLayout.js';
import { parquetObject } from '../src/s3/parquetObject.js';

const t0 = Date.UTC(2026, 11, 5, 10, 59, 0);
const b = (s: string) => Buffer.from(s, 'utf8');

/** Records with everything a Kafka record may carry: text and raw bytes, nulls, empties, repeated headers. */
const tricky: SinkRecord[] = [
  {
    topic: 'orders',
    partition: 3,
    offset: 7n,
    timestamp: t0,
    key: b('k1'),
    value: b('{"a":1}'),
    headers: [],
  },
  {
    topic: 'orders',
    partition: 3,
    offset: 8n,
    timestamp: t0 + 1,
    key: null,
    value: Buffer.from([0xff, 0x00, 0xfe]),
    headers: [
      [b('trace'), b('x')],
      [b('trace'), null],
      [b('bin'), Buffer.from([0x80])],
    ],
  },
  {
    topic: 'orders',
    partition: 3,
    offset: 9n,
    timestamp: 0,
    key: Buffer.from([0xc3]),
    value: null,
    headers: [],
  },
  {
    topic: 'orders',
    partition: 3,
    offset: 2n ** 62n, // past 2^53: offsets are int64, not doubles
    timestamp: t0,
    key: b(''),
    value: b('é ünïcode'),
    headers: [[b('h'), b('')]],
  },
];

/** What a JSON line says a record's bytes are (text, or base64 when not UTF-8). */
const jsonBytes = (line: Record<string, unknown>, name: 'key' | 'value') =>
  line[`${name}Base64`] !== undefined
    ? Buffer.from(line[`${name}Base64`] as string, 'base64')
    : line[name] === null
      ? null
      : b(line[name] as string);

describe('Parquet objects', () => {
  it('hold one row per record that an independent reader (arrow-rs) reads back exactly', () => {
    const rows = readParquetRows(parquetObject(tricky));
    expect(rows[0]!.columns).toEqual([
      'topic:Utf8',
      'partition:Int32',
      'offset:Int64',
      'timestamp:Timestamp<MILLISECOND, UTC>',
      'key:Binary',
      'value:Binary',
      'headers:List<Struct<{key:Utf8, value:Binary}>>',
    ]);
    expect(rows.map(({ columns: _, ...r }) => r)).toEqual(
      tricky.map((r) => ({
        ...r,
        headers: r.headers.map(([k, v]) => [k?.toString('utf8') ?? null, v]),
      })),
    );
  });

  it('mean what the JSON lines mean: the same key, value and header bytes', () => {
    const rows = readParquetRows(parquetObject(tricky));
    for (const [i, r] of tricky.entries()) {
      const line = JSON.parse(jsonLine(r)) as Record<string, unknown>;
      const row = rows[i]!;
      expect(row.key).toEqual(jsonBytes(line, 'key'));
      expect(row.value).toEqual(jsonBytes(line, 'value'));
      expect(row.timestamp).toBe(line.timestamp);
      expect(row.headers).toEqual(
        (line.headers as [string, string | null][]).map(([k, v]) => [
          k,
          v === null ? null : Buffer.from(v, 'base64'),
        ]),
      );
    }
  });

  it('are the same bytes every time for the same records, over several row groups', async () => {
    const many: SinkRecord[] = Array.from({ length: 1100 }, (_, i) => ({
      topic: 't',
      partition: 0,
      offset: BigInt(1000 + i),
      timestamp: t0 + i,
      key: b(`k${i % 7}`),
      value: b(`value-${i}`),
      headers: i % 2 ? [[b('n'), b(String(i))]] : [],
    }));
    const once = await PARQUET.body(many);
    expect(Buffer.from(await PARQUET.body(many.map((r) => ({ ...r }))))).toEqual(Buffer.from(once));
    const rows = readParquetRows(once);
    expect(rows.map((r) => r.offset)).toEqual(many.map((r) => r.offset));
    expect(rows.map((r) => r.value?.toString())).toEqual(many.map((r) => r.value?.toString()));
    expect(rows[1099]!.headers).toEqual([['n', b('1099')]]);
  });

  it('are named like the JSON-lines objects, ending .parquet', () => {
    expect(objectKey('a/', 'orders', 3, t0, 7n, 9n, PARQUET.extension)).toBe(
      'a/topic=orders/partition=3/dt=2026-12-05/hour=10/00000000000000000007-00000000000000000009.parquet',
    );
    expect(JSON_LINES_GZIP.extension).toBe('jsonl.gz');
  });
});

describe('records the S3 sink cannot place', () => {
  it('are those with no timestamp (-1) or one no four-digit year names', () => {
    const at = (timestamp: number): SinkRecord => ({ ...tricky[0]!, timestamp });
    expect(placementFailure(at(0))).toBeNull();
    expect(placementFailure(at(Date.UTC(9999, 11, 31, 23, 59, 59, 999)))).toBeNull();
    expect(placementFailure(at(-1))).toMatchObject({
      stage: 'TASK_PUT',
      errorClass: 'PartitionException',
      message: expect.stringMatching(/no timestamp \(-1\)/),
    });
    expect(placementFailure(at(Date.UTC(10000, 0, 1)))?.message).toMatch(/names no hour from 1970 to 9999/);
    expect(placementFailure(at(-5))?.message).toMatch(/-5 names no hour/);
  });
});
