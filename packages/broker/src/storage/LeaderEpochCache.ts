import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

/**
 * Leader epoch → first offset written in that epoch, persisted in Kafka's
 * `leader-epoch-checkpoint` text format. Answers OffsetForLeaderEpoch, which followers and
 * KIP-320 consumers use to detect log divergence.
 */
export class LeaderEpochCache {
  private entries: EpochEntry[] = [];
  private readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, 'leader-epoch-checkpoint');
    if (existsSync(this.path)) this.entries = parseCheckpoint(readFileSync(this.path, 'utf8'));
  }

  get latestEpoch(): number {
    return this.entries.length === 0 ? -1 : this.entries[this.entries.length - 1]!.epoch;
  }

  all(): readonly EpochEntry[] {
    return this.entries;
  }

  /** Records that `epoch` starts at `startOffset` (ignored unless the epoch is new). */
  assign(epoch: number, startOffset: number): void {
    if (epoch < 0 || epoch <= this.latestEpoch) return;
    this.entries.push({ epoch, startOffset });
    this.persist();
  }

  /**
   * Kafka's semantics: for the latest epoch, the log end offset; for an older epoch, the start
   * offset of the next larger epoch (and the largest epoch ≤ the one asked); unknown (older
   * than every entry) → epoch -1, offset -1.
   */
  endOffsetFor(epoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    if (this.entries.length === 0 || epoch < this.entries[0]!.epoch) return { epoch: -1, endOffset: -1 };
    if (epoch >= this.latestEpoch) {
      return epoch === this.latestEpoch
        ? { epoch, endOffset: logEndOffset }
        : { epoch: this.latestEpoch, endOffset: logEndOffset };
    }
    let i = this.entries.length - 1;
    while (this.entries[i]!.epoch > epoch) i--;
    return { epoch: this.entries[i]!.epoch, endOffset: this.entries[i + 1]!.startOffset };
  }

  /** After the log was truncated to `offset`: forget epochs that start at or after it. */
  truncateFromEnd(offset: number): void {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.startOffset < offset);
    if (this.entries.length !== before) this.persist();
  }

  /** After the log start moved to `offset`: the earliest remaining epoch starts there. */
  truncateFromStart(offset: number): void {
    const keep = this.entries.filter(
      (e, i) => (this.entries[i + 1]?.startOffset ?? Number.POSITIVE_INFINITY) > offset,
    );
    if (keep.length > 0 && keep[0]!.startOffset < offset)
      keep[0] = { epoch: keep[0]!.epoch, startOffset: offset };
    this.entries = keep;
    this.persist();
  }

  private persist(): void {
    const text = `0\n${this.entries.length}\n${this.entries.map((e) => `${e.epoch} ${e.startOffset}`).join('\n')}\n`;
    writeFileSync(`${this.path}.tmp`, text);
    renameSync(`${this.path}.tmp`, this.path);
  }
}

function parseCheckpoint(text: string): EpochEntry[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines[0] !== '0') return [];
  return lines.slice(2).map((l) => {
    const [epoch, offset] = l.trim().split(/\s+/).map(Number);
    return { epoch: epoch!, startOffset: offset! };
  });
}
