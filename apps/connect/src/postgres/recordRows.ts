/**
 * How the PostgreSQL sink turns records into row operations (pure). A value is a JSON object whose
 * top-level fields name columns; the key, as UTF-8 text, goes to the key column. In upsert mode a
 * null value (tombstone) deletes the key's row and only the last operation per key in a batch counts,
 * which leaves the table as the compacted topic would be (docs/adr/0022-connector-runtime.md).
 */
import { type RecordFailure, recordFailure } from '../deadLetter/recordFailure.js';
import type { SinkRecord } from '../s3/objectLayout.js';

export type { RecordFailure };

export type SinkMode = 'insert' | 'upsert';

/** A row to write: the key (null in insert mode when the record has none) and the value's fields. */
export interface RowWrite {
  readonly kind: 'write';
  readonly key: string | null;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly record: SinkRecord;
}
export interface RowDelete {
  readonly kind: 'delete';
  readonly key: string;
  readonly record: SinkRecord;
}
export type RowOp = RowWrite | RowDelete;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One record as a row operation, nothing (an insert-mode tombstone has no row), or why it cannot be one. */
export function rowOpOf(r: SinkRecord, mode: SinkMode): RowOp | RecordFailure | null {
  let key: string | null = null;
  if (r.key !== null) {
    try {
      key = utf8.decode(r.key);
    } catch {
      return recordFailure(r, 'KEY_CONVERTER', 'DataException', 'the record key is not UTF-8 text');
    }
  }
  if (mode === 'upsert' && key === null)
    return recordFailure(
      r,
      'KEY_CONVERTER',
      'DataException',
      'upsert mode needs a record key (the primary key)',
    );
  if (r.value === null) return mode === 'upsert' && key !== null ? { kind: 'delete', key, record: r } : null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(r.value));
  } catch (e) {
    return recordFailure(
      r,
      'VALUE_CONVERTER',
      'DataException',
      `the record value is not JSON: ${(e as Error).message}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return recordFailure(r, 'VALUE_CONVERTER', 'DataException', 'the record value is not a JSON object');
  return { kind: 'write', key, fields: parsed as Record<string, unknown>, record: r };
}

/** Upsert mode: the last operation of each key, in the order of those last operations. */
export function lastPerKey(ops: readonly RowOp[]): RowOp[] {
  const last = new Map<string, RowOp>();
  for (const op of ops) {
    const key = op.key as string; // upsert-mode operations always have a key
    last.delete(key);
    last.set(key, op);
  }
  return [...last.values()];
}

/** The columns an auto-created table gets: SQL type of each field, from the values in `writes`. */
export function inferredColumns(
  writes: readonly RowWrite[],
  keyColumn: string,
): { name: string; type: string }[] {
  const seen = new Map<string, Set<string>>();
  for (const w of writes)
    for (const [name, v] of Object.entries(w.fields)) {
      if (name === keyColumn) continue;
      const kinds = seen.get(name) ?? new Set<string>();
      seen.set(name, kinds);
      if (v === null) continue;
      if (typeof v === 'number') kinds.add(Number.isInteger(v) ? 'integer' : 'float');
      else if (typeof v === 'object') kinds.add('json');
      else kinds.add(typeof v);
    }
  return [...seen].map(([name, kinds]) => ({ name, type: sqlTypeOf(kinds) }));
}

function sqlTypeOf(kinds: ReadonlySet<string>): string {
  if (kinds.size === 0) return 'text';
  if ([...kinds].every((k) => k === 'integer')) return 'bigint';
  if ([...kinds].every((k) => k === 'integer' || k === 'float')) return 'double precision';
  if (kinds.size === 1 && kinds.has('boolean')) return 'boolean';
  if (kinds.size === 1 && kinds.has('string')) return 'text';
  return 'jsonb';
}

/** The JSON rows `json_populate_recordset` reads: the fields, and the key under the key column. */
export function jsonRows(writes: readonly RowWrite[], keyColumn: string): Record<string, unknown>[] {
  return writes.map((w) => (w.key === null ? { ...w.fields } : { ...w.fields, [keyColumn]: w.key }));
}

/** The columns a statement writes: every field any row has (a row without one writes NULL there). */
export function writtenColumns(rows: readonly Record<string, unknown>[]): string[] {
  const names = new Set<string>();
  for (const r of rows) for (const n of Object.keys(r)) names.add(n);
  return [...names];
}
