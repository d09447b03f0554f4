/**
 * Where a sink object goes and what a line in it holds (pure). Names are deterministic: the same
 * records always make the same key, so a task that writes an object again after a crash replaces
 * it instead of adding a duplicate (docs/adr/0022-connector-runtime.md).
 */
import type { S3ObjectFormat } from '@fjord/contracts';
import { type RecordFailure, recordFailure } from '../deadLetter/recordFailure.js';

/** Offsets are zero-padded to 20 digits (any int64) so that keys sort in offset order. */
const pad = (o: bigint) => o.toString().padStart(20, '0');

/** `dt=YYYY-MM-DD/hour=HH` of a timestamp, in UTC. */
export function hourPath(timestampMs: number): string {
  const d = new Date(timestampMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `dt=${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}/hour=${two(d.getUTCHours())}`;
}

/** `<prefix>topic=t/partition=0/dt=…/hour=HH/<first>-<last>.<extension>`; the hour is the first record's. */
export function objectKey(
  prefix: string,
  topic: string,
  partition: number,
  firstTimestampMs: number,
  first: bigint,
  last: bigint,
  extension: S3ObjectFormat = 'jsonl.gz',
): string {
  return `${prefix}topic=${topic}/partition=${partition}/${hourPath(firstTimestampMs)}/${pad(first)}-${pad(last)}.${extension}`;
}

/** 9999-12-31T23:59:59.999Z: the last instant a `dt=YYYY-MM-DD` path can name. */
const LAST_PLACEABLE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Why a record cannot be placed in an hour, or null. Kafka's -1 means "no timestamp" (Kafka's Java
 * producer refuses any negative one), and a path names four-digit years only: such a record would
 * land under a made-up or malformed hour, so it is a record the sink cannot handle (Confluent's
 * time-based partitioner throws a PartitionException for a record without a timestamp).
 */
export function placementFailure(r: SinkRecord): RecordFailure | null {
  if (r.timestamp >= 0 && r.timestamp <= LAST_PLACEABLE_MS) return null;
  return recordFailure(
    r,
    'TASK_PUT',
    'PartitionException',
    r.timestamp === -1
      ? 'the record has no timestamp (-1), so it names no hour to be placed under'
      : `the record timestamp ${r.timestamp} names no hour from 1970 to 9999 to be placed under`,
  );
}

/** A record as the sink reads it off the wire. */
export interface SinkRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly (readonly [Buffer | null, Buffer | null])[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as text when they are UTF-8, else base64 under the `…Base64` field: nothing is lost either way. */
function bytesField(out: Record<string, unknown>, name: string, b: Buffer | null): void {
  if (b === null) {
    out[name] = null;
    return;
  }
  try {
    out[name] = utf8.decode(b);
  } catch {
    out[name] = null;
    out[`${name}Base64`] = b.toString('base64');
  }
}

/** One JSON line (with its newline): topic, partition, offset, timestamp, key, value, headers. */
export function jsonLine(r: SinkRecord): string {
  const out: Record<string, unknown> = {
    topic: r.topic,
    partition: r.partition,
    offset: Number(r.offset),
    timestamp: r.timestamp,
  };
  bytesField(out, 'key', r.key);
  bytesField(out, 'value', r.value);
  out.headers = r.headers.map(([k, v]) => [
    k?.toString('utf8') ?? null,
    v === null ? null : v.toString('base64'),
  ]);
  return `${JSON.stringify(out)}\n`;
}
