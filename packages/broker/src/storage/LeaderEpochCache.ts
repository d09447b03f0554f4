import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from './FileIO.js';

export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
const UNDEFINED_EPOCH = -1;
const UNDEFINED_OFFSET = -1;

/**
 * Leader epoch → first offset written in that epoch (Kafka's LeaderEpochFileCache), persisted
 * in Kafka's `leader-epoch-checkpoint` text format. Answers OffsetForLeaderEpoch, which
 * followers and KIP-320 consumers use to find where their log diverged from the leader's.
 */
export class LeaderEpochCache {
  private entries: EpochEntry[] = [];
  private readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
    if (existsSync(this.path)) this.entries = parseCheckpoint(readFileSync(this.path, 'utf8'));
  }

  get latestEpoch(): number {
    return this.entries.length === 0 ? UNDEFINED_EPOCH : this.entries[this.entries.length - 1]!.epoch;
  }

  get earliestEntry(): EpochEntry | undefined {
    return this.entries[0];
  }

  all(): readonly EpochEntry[] {
    return this.entries;
  }

  /**
   * Records that `epoch` starts at `startOffset`. As in Kafka, entries that would no longer be
   * monotonic (an epoch ≥ it, or a start offset ≥ it) are dropped first; repeating the latest
   * entry is a no-op.
   */
  assign(epoch: number, startOffset: number): void {
    if (epoch < 0) return;
    const latest = this.entries[this.entries.length - 1];
    if (latest && latest.epoch === epoch && latest.startOffset <= startOffset) return;
    this.entries = this.entries.filter((e) => e.epoch < epoch && e.startOffset < startOffset);
    this.entries.push({ epoch, startOffset });
    this.persist();
  }

  /**
   * Kafka's OffsetForLeaderEpoch answer: for the latest epoch, the log end offset; for an
   * older one, the largest epoch ≤ it and the start offset of the next larger epoch; for one
   * older than every entry, the requested epoch and the first entry's start offset; for one
   * newer than every entry (or an empty cache), undefined (-1, -1).
   */
  endOffsetFor(epoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    if (epoch === UNDEFINED_EPOCH) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_OFFSET };
    if (this.entries.length > 0 && epoch === this.latestEpoch) return { epoch, endOffset: logEndOffset };
    const higher = this.entries.findIndex((e) => e.epoch > epoch);
    if (higher < 0) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_OFFSET };
    if (higher === 0) return { epoch, endOffset: this.entries[0]!.startOffset };
    return { epoch: this.entries[higher - 1]!.epoch, endOffset: this.entries[higher]!.startOffset };
  }

  /** The epoch in which `offset` was written (the last entry starting at or before it), or -1. */
  epochForOffset(offset: number): number {
    let epoch = UNDEFINED_EPOCH;
    for (const e of this.entries) {
      if (e.startOffset > offset) break;
      epoch = e.epoch;
    }
    return epoch;
  }

  /** After the log was truncated to end at `endOffset`: forget epochs starting at or after it. */
  truncateFromEnd(endOffset: number): void {
    const keep = this.entries.filter((e) => e.startOffset < endOffset);
    if (keep.length === this.entries.length) return;
    this.entries = keep;
    this.persist();
  }

  /** After the log start moved to `startOffset`: the epoch covering it now starts there. */
  truncateFromStart(startOffset: number): void {
    const keep = this.entries.filter(
      (_, i) => (this.entries[i + 1]?.startOffset ?? Number.POSITIVE_INFINITY) > startOffset,
    );
    if (keep.length > 0 && keep[0]!.startOffset < startOffset)
      keep[0] = { epoch: keep[0]!.epoch, startOffset };
    const changed =
      keep.length !== this.entries.length ||
      keep.some((e, i) => e.startOffset !== this.entries[i]!.startOffset);
    if (!changed) return;
    this.entries = keep;
    this.persist();
  }

  /** Forgets everything (the log was emptied and restarted elsewhere). */
  clear(): void {
    if (this.entries.length === 0) return;
    this.entries = [];
    this.persist();
  }

  private persist(): void {
    const lines = this.entries.map((e) => `${e.epoch} ${e.startOffset}`);
    writeFileDurably(this.path, `0\n${this.entries.length}\n${lines.join('\n')}${lines.length ? '\n' : ''}`);
  }
}

/** Version 0: `0`, the entry count, then `epoch startOffset` per line. Garbage reads as empty. */
function parseCheckpoint(text: string): EpochEntry[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines[0]?.trim() !== '0') return [];
  const count = Number(lines[1]);
  const entries: EpochEntry[] = [];
  for (const line of lines.slice(2)) {
    const [epoch, offset] = line.trim().split(/\s+/).map(Number);
    if (!Number.isInteger(epoch) || !Number.isInteger(offset)) return [];
    entries.push({ epoch: epoch!, startOffset: offset! });
  }
  return entries.length === count ? entries : [];
}
