import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchOffsets, buildRecordBatch, type DecodedRecord, decodeRecords } from '@fjord/protocol';
import { afterAll } from 'vitest';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../src/storage/LogConfig.js';
import type { PartitionLog } from '../../src/storage/PartitionLog.js';

const created: string[] = [];

/** A fresh directory under the OS temp dir, removed when the test file is done. */
export function tempDir(prefix = 'fjord-storage-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 5 })));
});

/**
 * Stops logs the way a killed process stops: nothing they still have in flight (a background
 * flush, a checkpoint) reaches the disk afterwards. Tests reopen the same dirs in-process.
 */
export function simulateCrash(...logs: PartitionLog[]): void {
  for (const log of logs) log.markOffline(new Error('simulated crash'));
}

export interface TestRecord {
  readonly key?: string | null;
  /** null makes a tombstone. */
  readonly value: string | null;
  readonly timestamp?: number;
}

/** A valid v2 batch (CRC and all) of `records`; offsets are stamped by the log on append. */
export function batchOf(
  records: readonly (TestRecord | string)[],
  options: { timestamp?: number; compression?: number; producerId?: bigint; baseSequence?: number } = {},
): Buffer {
  return buildRecordBatch({
    records: records.map((r) => {
      const rec = typeof r === 'string' ? { value: r } : r;
      return {
        key: rec.key === undefined || rec.key === null ? null : Buffer.from(rec.key),
        value: rec.value === null ? null : Buffer.from(rec.value),
        timestamp: rec.timestamp === undefined ? undefined : BigInt(rec.timestamp),
      };
    }),
    baseTimestamp: BigInt(options.timestamp ?? 1_000),
    compression: options.compression,
    producerId: options.producerId,
    producerEpoch: options.producerId === undefined ? undefined : 0,
    baseSequence: options.baseSequence,
  });
}

/** `offset:value` (or `offset:key=value`); `∅` marks a tombstone. */
function formatRecord(r: DecodedRecord): string {
  const value = r.value === null ? '∅' : r.value.toString();
  return r.key === null ? `${r.offset}:${value}` : `${r.offset}:${r.key.toString()}=${value}`;
}

/** Every record of a record set, formatted by formatRecord. */
export function recordsOf(data: Buffer | undefined): string[] {
  if (!data || data.length === 0) return [];
  return batchOffsets(data).flatMap((pos) => decodeRecords(data, pos).map(formatRecord));
}

/** Every record from `from` up to `maxOffset`, by repeated reads as a consumer would. */
export function readAll(
  log: PartitionLog,
  from = log.logStartOffset,
  maxOffset = log.logEndOffset,
): string[] {
  const out: string[] = [];
  let offset = from;
  while (offset < maxOffset) {
    const data = log.read(offset, 64 * 1024, maxOffset);
    if (!data) break;
    let next = offset;
    for (const pos of batchOffsets(data)) {
      for (const r of decodeRecords(data, pos)) if (Number(r.offset) >= offset) out.push(formatRecord(r));
      next = Number(data.readBigInt64BE(pos)) + data.readInt32BE(pos + 23) + 1;
    }
    offset = next;
  }
  return out;
}

/** Small segments and dense indexes, so a few records exercise rolls and index lookups. */
export const SMALL_LOG: LogConfig = { ...DEFAULT_LOG_CONFIG, segmentBytes: 400, indexIntervalBytes: 100 };
