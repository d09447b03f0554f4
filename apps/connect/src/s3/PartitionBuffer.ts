import { hourPath } from './objectLayout.js';

/** When an open object is closed: whichever comes first (the sink's config). */
export interface RollPolicy {
  readonly rollRecords: number;
  readonly rollBytes: number;
  readonly rollSeconds: number;
}

/** An object ready to be written: its range, the first record's time, and its entries (as its format keeps them). */
export interface ClosedObject<Entry> {
  readonly first: bigint;
  readonly last: bigint;
  readonly firstTimestamp: number;
  readonly entries: Entry[];
  /** What the entries counted toward `rollBytes`. */
  readonly bytes: number;
}

/**
 * The open object of one partition (pure: time comes in as arguments). Records are added in offset
 * order; the buffer says when to close. After a crash the range named before the crash (`replay`)
 * decides alone, so the object rewritten has the same records and name as the first attempt.
 */
export class PartitionBuffer<Entry> {
  private entries: Entry[] = [];
  private bytes = 0;
  private first = -1n;
  private last = -1n;
  private firstTimestamp = 0;
  private openedAt = 0;

  constructor(
    private readonly policy: RollPolicy,
    private replay: { first: bigint; last: bigint } | null,
  ) {}

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** Whether a record of this time must start a new object (another hour; never during a replay). */
  startsNewObject(timestamp: number): boolean {
    return !this.isEmpty && this.replay === null && hourPath(timestamp) !== hourPath(this.firstTimestamp);
  }

  /** `bytes`: what the entry counts toward `rollBytes`. */
  add(offset: bigint, timestamp: number, entry: Entry, bytes: number, nowMs: number): void {
    if (this.isEmpty) {
      this.first = offset;
      this.firstTimestamp = timestamp;
      this.openedAt = nowMs;
    }
    this.entries.push(entry);
    this.bytes += bytes;
    this.last = offset;
  }

  /** Full by size or count, or, during a replay, at the end of the range named before. */
  isFull(): boolean {
    if (this.isEmpty) return false;
    if (this.replay) return this.last >= this.replay.last;
    return this.entries.length >= this.policy.rollRecords || this.bytes >= this.policy.rollBytes;
  }

  /** Open for longer than the roll time (a replay waits for its whole range instead). */
  isDue(nowMs: number): boolean {
    return !this.isEmpty && this.replay === null && nowMs - this.openedAt >= this.policy.rollSeconds * 1000;
  }

  /** Closes the open object and starts afresh (the replay, if any, is done). */
  take(): ClosedObject<Entry> {
    const closed = {
      first: this.first,
      last: this.last,
      firstTimestamp: this.firstTimestamp,
      entries: this.entries,
      bytes: this.bytes,
    };
    this.entries = [];
    this.bytes = 0;
    this.replay = null;
    return closed;
  }
}
