/**
 * A record a sink could not handle, as it goes to the dead-letter topic (pure): key, value and
 * headers as they were, plus the error context headers Kafka Connect's DeadLetterQueueReporter adds
 * (names and text encodings as Kafka Connect writes them).
 */
import type { RecordFailure } from './recordFailure.js';

export interface DeadLetterContext {
  readonly connectorName: string;
  readonly task: number;
  /** Who handled the record when it failed (Kafka Connect: the connector's or converter's class). */
  readonly executingClass: string;
}

export interface DeadLetterRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: [Buffer, Buffer][];
  readonly timestamp: bigint;
}

const text = (s: string) => Buffer.from(s, 'utf8');

export function deadLetterRecord(f: RecordFailure, ctx: DeadLetterContext): DeadLetterRecord {
  const r = f.record;
  const original: [Buffer, Buffer][] = r.headers.map(([k, v]) => [
    k ?? Buffer.alloc(0),
    v ?? Buffer.alloc(0),
  ]);
  const context: [string, string][] = [
    ['__connect.errors.topic', r.topic],
    ['__connect.errors.partition', String(r.partition)],
    ['__connect.errors.offset', r.offset.toString()],
    ['__connect.errors.connector.name', ctx.connectorName],
    ['__connect.errors.task.id', String(ctx.task)],
    ['__connect.errors.stage', f.stage],
    ['__connect.errors.class.name', ctx.executingClass],
    ['__connect.errors.exception.class.name', f.errorClass],
    ['__connect.errors.exception.message', f.message],
  ];
  return {
    key: r.key,
    value: r.value,
    headers: [...original, ...context.map(([k, v]): [Buffer, Buffer] => [text(k), text(v)])],
    timestamp: BigInt(r.timestamp),
  };
}

/** How a failure reads in a FAILED task's reason. */
export function failureReason(f: RecordFailure): string {
  const r = f.record;
  return `record ${r.topic}/${r.partition}@${r.offset}: ${f.message} (errors.tolerance is none)`;
}
