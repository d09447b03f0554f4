/**
 * The S3 sink's object formats (pure): what an open object keeps per record, how many bytes that
 * counts toward `rollBytes`, and the object's body, extension and content type.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { S3ObjectFormat } from '@fjord/contracts';
import { jsonLine, type SinkRecord } from './objectLayout.js';
import { parquetObject, recordBytes } from './parquetObject.js';

const gzipAsync = promisify(gzip);

export interface ObjectFormat<Entry> {
  readonly extension: S3ObjectFormat;
  readonly contentType: string;
  /** Method syntax on purpose: a format of any entry type is used through ObjectFormat<unknown>. */
  entryOf(r: SinkRecord): { entry: Entry; bytes: number };
  body(entries: Entry[]): Promise<Uint8Array>;
}

/** JSON lines, gzip: a line is rendered as its record arrives; rollBytes counts the lines. */
export const JSON_LINES_GZIP: ObjectFormat<string> = {
  extension: 'jsonl.gz',
  contentType: 'application/x-ndjson',
  entryOf(r) {
    const line = jsonLine(r);
    return { entry: line, bytes: Buffer.byteLength(line) };
  },
  body: (lines) => gzipAsync(lines.join('')),
};

/** Parquet: records are kept as they came and encoded column by column when the object closes. */
export const PARQUET: ObjectFormat<SinkRecord> = {
  extension: 'parquet',
  contentType: 'application/vnd.apache.parquet',
  entryOf: (r) => ({ entry: r, bytes: recordBytes(r) }),
  body: async (records) => parquetObject(records),
};

export function objectFormat(name: S3ObjectFormat): ObjectFormat<unknown> {
  return name === 'parquet' ? PARQUET : JSON_LINES_GZIP;
}
