/**
 * Where a sink object goes and what a line in it holds (pure). Names are deterministic: the same
 * records always make the same key, so a task that writes an object again after a crash replaces
 * it instead of adding a duplicate (docs/adr/0022-connector-runtime.md).
 */

/** Offsets are zero-padded to 20 digits (any int64) so that keys sort in offset order. */
const pad = (o: bigint) => o.toString().padStart(20, '0');

/** `dt=YYYY-MM-DD/hour=HH` of a timestamp, in UTC. */
export function hourPath(timestampMs: number): string {
  const d = new Date(timestampMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `dt=${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}/hour=${two(d.getUTCHours())}`;
}

/** `<prefix>topic=t/partition=0/dt=…/hour=HH/<first>-<last>.jsonl.gz`; the hour is the first record's. */
export function objectKey(
  prefix: string,
  topic: string,
  partition: number,
  firstTimestampMs: number,
  first: bigint,
  last: bigint,
): string {
  return `${prefix}topic=${topic}/partition=${partition}/${hourPath(firstTimestampMs)}/${pad(first)}-${pad(last)}.jsonl.gz`;
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
