import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm/node';

/** A row of an S3 sink Parquet object, as a reader that shares no code with the writer sees it. */
export interface ParquetSinkRow {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: [string | null, Buffer | null][];
  /** The column types, `name:type` as Arrow names them (the same for every row). */
  columns: string[];
}

const buf = (v: Uint8Array | null | undefined) => (v == null ? null : Buffer.from(v));

/**
 * Every row of a Parquet file, read by parquet-wasm (the Rust `parquet` crate of Apache Arrow
 * compiled to WebAssembly), not by the JavaScript library the sink writes with.
 */
export function readParquetRows(bytes: Uint8Array): ParquetSinkRow[] {
  const table = tableFromIPC(readParquet(bytes).intoIPCStream());
  const columns = table.schema.fields.map((f) => `${f.name}:${f.type}`);
  return table.toArray().map((r) => {
    const headers = r.headers.toArray() as { key: string | null; value: Uint8Array | null }[];
    return {
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      key: buf(r.key),
      value: buf(r.value),
      headers: headers.map((h): [string | null, Buffer | null] => [h.key, buf(h.value)]),
      columns,
    };
  });
}
