/**
 * A run of mirrored records whose target offsets follow their source offsets at a constant
 * distance: source offsets sourceStart..sourceEnd (with no record missing between them) were
 * written at targetStart... A gap in the source (compaction, transaction markers, aborted
 * records, records not copied back in a two-way mirror) starts a new run, and so does a gap on the
 * target side (the exactly-once mirror's own transaction markers and aborted copies; other
 * producers may write the partition too).
 */
export interface OffsetRun {
  readonly sourceStart: bigint;
  readonly sourceEnd: bigint;
  readonly targetStart: bigint;
}

const targetEnd = (r: OffsetRun) => r.targetStart + (r.sourceEnd - r.sourceStart);

/**
 * The runs after one written batch: `sourceOffsets` (ascending) went to targetBase,
 * targetBase + 1, ... Returns the runs to store: the last one extended, or new ones.
 */
export function extendRuns(
  last: OffsetRun | undefined,
  sourceOffsets: readonly bigint[],
  targetBase: bigint,
): OffsetRun[] {
  const out: OffsetRun[] = [];
  let current = last;
  let changed = false;
  sourceOffsets.forEach((source, i) => {
    const target = targetBase + BigInt(i);
    if (current && source === current.sourceEnd + 1n && target === targetEnd(current) + 1n) {
      current = { ...current, sourceEnd: source };
      changed = true;
      return;
    }
    if (current && changed) out.push(current);
    current = { sourceStart: source, sourceEnd: source, targetStart: target };
    changed = true;
  });
  if (current && changed) out.push(current);
  return out;
}

/**
 * Where a consumer that committed `committed` on the source (the next offset it would read)
 * resumes on the target: exactly the target offset of the next mirrored record. Runs are in
 * ascending sourceStart. Undefined when the offset is older than what the runs remember. Past
 * the last mirrored record it is the next target offset: records the source consumer already
 * had and the mirror has not copied yet are read again there (at least once, never skipped).
 */
export function translateOffset(runs: readonly OffsetRun[], committed: bigint): bigint | undefined {
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (runs[mid]!.sourceStart <= committed) lo = mid + 1;
    else hi = mid;
  }
  const run = runs[lo - 1];
  if (!run) return undefined;
  if (committed <= run.sourceEnd) return run.targetStart + (committed - run.sourceStart);
  return targetEnd(run) + 1n;
}
