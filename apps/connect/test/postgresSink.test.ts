import { createTestDatabase } from '@fjord/test-support/database';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterRecord, failureReason } from '../src/deadLetter/deadLetterRecord.js';
import {
  inferredColumns,
  jsonRows,
  lastPerKey,
  type RecordFailure,
  type RowOp,
  type RowWrite,
  rowOpOf,
  writtenColumns,
} from '../src/postgres/recordRows.js';
import {
  advanceOffset,
  createOffsetsTable,
  createTable,
  deleteRows,
  isRowError,
  readOffsets,
  writeRows,
} from '../src/postgres/sinkStatements.js';
import type { SinkRecord } from '../src/s3/objectLayout.js';

const rec = (offset: number, key: string | null, value: string | null): SinkRecord => ({
  topic: 't',
  partition: 1,
  offset: BigInt(offset),
  timestamp: 1_700_000_000_000 + offset,
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  headers: [[Buffer.from('h'), Buffer.from('v')]],
});

const op = (r: SinkRecord, mode: 'insert' | 'upsert' = 'upsert') => rowOpOf(r, mode) as RowOp;

describe('records as rows', () => {
  it('maps a JSON object value to fields and the key to text; a tombstone deletes in upsert mode only', () => {
    expect(rowOpOf(rec(0, 'k', '{"a":1,"b":{"c":true}}'), 'upsert')).toMatchObject({
      kind: 'write',
      key: 'k',
      fields: { a: 1, b: { c: true } },
    });
    expect(rowOpOf(rec(1, 'k', null), 'upsert')).toMatchObject({ kind: 'delete', key: 'k' });
    expect(rowOpOf(rec(1, 'k', null), 'insert')).toBeNull();
    expect(rowOpOf(rec(2, null, '{"a":1}'), 'insert')).toMatchObject({ kind: 'write', key: null });
  });

  it('names what is wrong with a record it cannot map, and where', () => {
    const cases: [SinkRecord, 'insert' | 'upsert', RecordFailure['stage'], RegExp][] = [
      [rec(0, 'k', 'nope'), 'insert', 'VALUE_CONVERTER', /not JSON/],
      [rec(0, 'k', '[1,2]'), 'insert', 'VALUE_CONVERTER', /not a JSON object/],
      [rec(0, 'k', '7'), 'upsert', 'VALUE_CONVERTER', /not a JSON object/],
      [rec(0, null, '{}'), 'upsert', 'KEY_CONVERTER', /needs a record key/],
      [{ ...rec(0, null, '{}'), key: Buffer.from([0xff, 0xfe]) }, 'insert', 'KEY_CONVERTER', /not UTF-8/],
    ];
    for (const [r, mode, stage, message] of cases) {
      const f = rowOpOf(r, mode) as RecordFailure;
      expect(f.kind).toBe('failure');
      expect(f.stage).toBe(stage);
      expect(f.message).toMatch(message);
    }
  });

  it('keeps the last operation per key, in the order of those last operations', () => {
    const ops = [
      op(rec(0, 'a', '{"v":1}')),
      op(rec(1, 'b', '{"v":2}')),
      op(rec(2, 'a', null)),
      op(rec(3, 'c', '{"v":3}')),
      op(rec(4, 'b', '{"v":4}')),
    ];
    expect(lastPerKey(ops).map((o) => [o.kind, o.key, Number(o.record.offset)])).toEqual([
      ['delete', 'a', 2],
      ['write', 'c', 3],
      ['write', 'b', 4],
    ]);
  });

  it('infers column types from every value of a field in the batch', () => {
    const writes = [
      op(rec(0, 'a', '{"n":1,"x":1,"s":"t","b":true,"o":{"p":1},"z":null,"id":"no"}')),
      op(rec(1, 'b', '{"n":2,"x":1.5,"s":"u","b":false,"o":[1],"z":null,"m":"1"}')),
      op(rec(2, 'c', '{"m":2}')),
    ] as RowWrite[];
    expect(inferredColumns(writes, 'id')).toEqual([
      { name: 'n', type: 'bigint' },
      { name: 'x', type: 'double precision' },
      { name: 's', type: 'text' },
      { name: 'b', type: 'boolean' },
      { name: 'o', type: 'jsonb' },
      { name: 'z', type: 'text' },
      { name: 'm', type: 'jsonb' },
    ]);
  });

  it('puts the key under the key column (the key wins over a field of that name)', () => {
    const rows = jsonRows(
      [op(rec(0, 'a', '{"id":"x","v":1}')), op(rec(1, null, '{"w":2}'), 'insert')] as RowWrite[],
      'id',
    );
    expect(rows).toEqual([{ id: 'a', v: 1 }, { w: 2 }]);
    expect(writtenColumns(rows)).toEqual(['id', 'v', 'w']);
  });
});

describe('dead letters', () => {
  it("carry the record as it was plus Kafka Connect's error context headers", () => {
    const f = rowOpOf(rec(42, 'k', 'nope'), 'upsert') as RecordFailure;
    const d = deadLetterRecord(f, {
      connectorName: 'orders-db',
      task: 1,
      executingClass: 'PostgresSinkTask',
    });
    expect(d.key?.toString()).toBe('k');
    expect(d.value?.toString()).toBe('nope');
    expect(d.timestamp).toBe(1_700_000_000_042n);
    const headers = d.headers.map(([k, v]) => [k.toString(), v.toString()]);
    expect(headers.slice(0, 1)).toEqual([['h', 'v']]);
    expect(Object.fromEntries(headers.slice(1))).toEqual({
      '__connect.errors.topic': 't',
      '__connect.errors.partition': '1',
      '__connect.errors.offset': '42',
      '__connect.errors.connector.name': 'orders-db',
      '__connect.errors.task.id': '1',
      '__connect.errors.stage': 'VALUE_CONVERTER',
      '__connect.errors.class.name': 'PostgresSinkTask',
      '__connect.errors.exception.class.name': 'DataException',
      '__connect.errors.exception.message': f.message,
    });
    expect(failureReason(f)).toMatch(/^record t\/1@42: the record value is not JSON/);
  });
});

/** The statements against a real PostgreSQL: what they write, what they refuse, how offsets fence. */
describe('sink statements', () => {
  let db: { url: string; drop(): Promise<void> };
  let c: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    c = new pg.Client({ connectionString: db.url });
    await c.connect();
  });
  afterAll(async () => {
    await c?.end();
    await db?.drop();
  });

  it('creates the table, upserts by key into the fields present, deletes by key', async () => {
    const ops = [
      op(rec(0, 'a', '{"n":1,"o":{"p":1},"s":"x"}')),
      op(rec(1, 'b', '{"n":2,"s":"y"}')),
    ] as RowWrite[];
    await c.query(createTable('public', 'sink_t', 'id', true, inferredColumns(ops, 'id')));
    const write = (rows: Record<string, unknown>[]) =>
      writeRows('public', 'sink_t', writtenColumns(rows), rows, 'id');
    const w = write(jsonRows(ops, 'id'));
    await c.query(w.text, w.values);
    const again = write(jsonRows([op(rec(2, 'a', '{"n":10}'))] as RowWrite[], 'id'));
    await c.query(again.text, again.values);
    const d = deleteRows('public', 'sink_t', 'id', ['b']);
    await c.query(d.text, d.values);
    expect((await c.query('SELECT id, n, o, s FROM sink_t ORDER BY id')).rows).toEqual([
      { id: 'a', n: '10', o: { p: 1 }, s: 'x' },
    ]);
    const bad = write([{ id: 'c', n: 'lots' }]);
    const refused = await c.query(bad.text, bad.values).catch((e: { code: string }) => e);
    expect(isRowError((refused as { code: string }).code)).toBe(true);
    const unknown = write([{ id: 'c', nope: 1 }]);
    const noColumn = await c.query(unknown.text, unknown.values).catch((e: { code: string }) => e);
    expect(isRowError((noColumn as { code: string }).code)).toBe(true);
    expect(isRowError('08006')).toBe(false);
  });

  it('moves an offset only from the value the writer last saw', async () => {
    await c.query(createOffsetsTable('public'));
    const move = async (expected: bigint | null, next: bigint) => {
      const s = advanceOffset('public', 'con-1', 't', 0, expected, next);
      return (await c.query(s.text, s.values)).rowCount;
    };
    expect(await move(null, 10n)).toBe(1);
    expect(await move(null, 20n)).toBe(0); // a second first writer
    expect(await move(5n, 20n)).toBe(0); // a stale writer
    expect(await move(10n, 20n)).toBe(1);
    const r = readOffsets('public', 'con-1');
    expect((await c.query(r.text, r.values)).rows).toEqual([{ topic: 't', partition: 0, next_offset: '20' }]);
  });
});
