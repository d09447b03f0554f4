/**
 * A sink object as Parquet (pure): one row per record, in offset order. The columns mean what the
 * JSON-lines fields mean: key and value are the record's bytes (BINARY, so nothing needs base64),
 * headers a list of (key, value) in order, repeated names kept. The writer is given nothing that
 * varies between runs (no clock, a fixed created_by), so the same records always make the same bytes
 * and a range written again after a crash replaces its object with an identical one.
 */
import { type ParquetWriteOptions, parquetWriteBuffer } from 'hyparquet-writer';
import type { SinkRecord } from './objectLayout.js';

const string = { type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } } as const;

/** The file schema, flattened depth first as Parquet stores it; headers use the standard 3-level LIST. */
export const PARQUET_SCHEMA: NonNullable<ParquetWriteOptions['schema']> = [
  { name: 'schema', num_children: 7 },
  { name: 'topic', repetition_type: 'REQUIRED', ...string },
  { name: 'partition', repetition_type: 'REQUIRED', type: 'INT32' },
  { name: 'offset', repetition_type: 'REQUIRED', type: 'INT64' },
  {
    name: 'timestamp',
    repetition_type: 'REQUIRED',
    type: 'INT64',
    converted_type: 'TIMESTAMP_MILLIS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
  },
  { name: 'key', repetition_type: 'OPTIONAL', type: 'BYTE_ARRAY' },
  { name: 'value', repetition_type: 'OPTIONAL', type: 'BYTE_ARRAY' },
  {
    name: 'headers',
    repetition_type: 'REQUIRED',
    converted_type: 'LIST',
    logical_type: { type: 'LIST' },
    num_children: 1,
  },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'REQUIRED', num_children: 2 },
  // Header names are UTF-8 text as in the JSON lines (Kafka's header keys are strings).
  { name: 'key', repetition_type: 'OPTIONAL', ...string },
  { name: 'value', repetition_type: 'OPTIONAL', type: 'BYTE_ARRAY' },
];

const bytes = (b: Buffer | null) => (b === null ? null : new Uint8Array(b.buffer, b.byteOffset, b.length));

/** The records (one partition's range, in offset order) as one Parquet file, snappy-compressed. */
export function parquetObject(records: readonly SinkRecord[]): Uint8Array {
  const buffer = parquetWriteBuffer({
    schema: PARQUET_SCHEMA,
    createdBy: 'fjord-connect',
    columnData: [
      { name: 'topic', data: records.map((r) => r.topic) },
      { name: 'partition', data: Int32Array.from(records, (r) => r.partition) },
      { name: 'offset', data: BigInt64Array.from(records, (r) => r.offset) },
      { name: 'timestamp', data: BigInt64Array.from(records, (r) => BigInt(r.timestamp)) },
      { name: 'key', data: records.map((r) => bytes(r.key)) },
      { name: 'value', data: records.map((r) => bytes(r.value)) },
      {
        name: 'headers',
        data: records.map((r) =>
          r.headers.map(([k, v]) => ({ key: k?.toString('utf8') ?? null, value: bytes(v) })),
        ),
      },
    ],
  });
  return new Uint8Array(buffer);
}

/** What a record adds to an open Parquet object before encoding, for `rollBytes`. */
export function recordBytes(r: SinkRecord): number {
  let n = (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const [k, v] of r.headers) n += (k?.length ?? 0) + (v?.length ?? 0);
  return n;
}
