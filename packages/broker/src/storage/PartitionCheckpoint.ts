import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from './FileIO.js';

/**
 * What a partition's log must remember across restarts besides its segments. Kafka keeps these
 * in per-dir files (`recovery-point-offset-checkpoint`, `log-start-offset-checkpoint`,
 * `cleaner-offset-checkpoint`); one small file per partition keeps each log self-contained, so
 * a failed directory never holds another directory's state.
 */
export interface PartitionCheckpointState {
  /** First offset readers may see (DeleteRecords and retention move it forward). */
  readonly logStartOffset: number;
  /** Offsets below this were fsynced; after a crash only what follows is re-checked. */
  readonly recoveryPoint: number;
  /** The cleaner's first dirty offset: everything before it was compacted at least once. */
  readonly cleanerOffset: number;
  /**
   * The last high watermark checkpointed (Kafka's `replication-offset-checkpoint`): a lower
   * bound of what was committed, so a restarted replica shows consumers nothing uncommitted.
   */
  readonly highWatermark: number;
}

export const PARTITION_CHECKPOINT_FILE = 'partition-checkpoint';

const EMPTY: PartitionCheckpointState = {
  logStartOffset: 0,
  recoveryPoint: 0,
  cleanerOffset: 0,
  highWatermark: 0,
};

export function readPartitionCheckpoint(dir: string): PartitionCheckpointState {
  const path = join(dir, PARTITION_CHECKPOINT_FILE);
  if (!existsSync(path)) return EMPTY;
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines[0] !== '0') return EMPTY;
  const values = new Map<string, number>();
  for (const line of lines.slice(1)) {
    const [key, value] = line.split(' ');
    const n = Number(value);
    if (key && Number.isSafeInteger(n) && n >= 0) values.set(key, n);
  }
  // A file without every field was not written by us (or was damaged): trust none of it.
  if (!values.has('log-start-offset') || !values.has('recovery-point')) return EMPTY;
  return {
    logStartOffset: values.get('log-start-offset')!,
    recoveryPoint: values.get('recovery-point')!,
    cleanerOffset: values.get('cleaner-offset') ?? 0,
    highWatermark: values.get('high-watermark') ?? 0,
  };
}

/** Text with a version line, written atomically and durably. */
export function writePartitionCheckpoint(dir: string, state: PartitionCheckpointState): void {
  writeFileDurably(
    join(dir, PARTITION_CHECKPOINT_FILE),
    `0\nlog-start-offset ${state.logStartOffset}\nrecovery-point ${state.recoveryPoint}\ncleaner-offset ${state.cleanerOffset}\nhigh-watermark ${state.highWatermark}\n`,
  );
}
