/** A segment the disk budget may delete, as the planner sees it. */
export interface TrimmableSegment {
  readonly sizeBytes: number;
  /** The newest record's timestamp (what retention.ms compares). */
  readonly largestTimestamp: number;
}

/**
 * One partition's segments the disk budget may delete, oldest first: closed (never the active
 * segment) and wholly below the high watermark, of a topic whose cleanup.policy has `delete`.
 * Only a prefix can go, as with retention: the log start offset only moves forward.
 */
export interface TrimCandidate {
  readonly key: string;
  readonly segments: readonly TrimmableSegment[];
}

export interface TrimPlan {
  /** How many segments to delete from the start of each partition's log, by key. */
  readonly deletions: ReadonlyMap<string, number>;
  readonly freedBytes: number;
  /** Usage once they are gone; still at or above the mark when too little was trimmable. */
  readonly usedAfter: number;
}

/**
 * Which segments to delete so that a broker's usage falls below its high-water mark: the oldest
 * closed segments first across all partitions (by their newest record, as retention.ms ages
 * them), each partition's taken from its start, and no more than needed.
 */
export function planDiskTrim(
  usedBytes: number,
  highWaterBytes: number,
  candidates: readonly TrimCandidate[],
): TrimPlan {
  const taken = candidates.map(() => 0);
  const deletions = new Map<string, number>();
  let used = usedBytes;
  while (used >= highWaterBytes) {
    let pick = -1;
    for (let i = 0; i < candidates.length; i++) {
      const head = candidates[i]!.segments[taken[i]!];
      if (!head) continue;
      const best = pick < 0 ? undefined : candidates[pick]!.segments[taken[pick]!]!;
      if (!best || head.largestTimestamp < best.largestTimestamp) pick = i;
    }
    if (pick < 0) break;
    used -= candidates[pick]!.segments[taken[pick]!]!.sizeBytes;
    const n = taken[pick]! + 1;
    taken[pick] = n;
    deletions.set(candidates[pick]!.key, n);
  }
  return { deletions, freedBytes: usedBytes - used, usedAfter: used };
}
