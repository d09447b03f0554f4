import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extendRuns, type OffsetRun, translateOffset } from '../src/mirror/offsetTranslation.js';

/** Applies batches as the mirror does, keeping every run (newest replaces one with its start). */
function runsOf(batches: readonly { sources: bigint[]; targetBase: bigint }[]): OffsetRun[] {
  const byStart = new Map<bigint, OffsetRun>();
  let last: OffsetRun | undefined;
  for (const b of batches) {
    for (const r of extendRuns(last, b.sources, b.targetBase)) {
      byStart.set(r.sourceStart, r);
      last = r;
    }
  }
  return [...byStart.values()].sort((a, b) => (a.sourceStart < b.sourceStart ? -1 : 1));
}

describe('mirror offset translation', () => {
  it('extends a run while offsets follow each other and starts one at each source gap', () => {
    const runs = runsOf([
      { sources: [0n, 1n, 2n], targetBase: 0n },
      { sources: [3n, 4n], targetBase: 3n },
      // A transaction marker at source 5: the next record is 6, written at target 5.
      { sources: [6n, 7n], targetBase: 5n },
    ]);
    expect(runs).toEqual([
      { sourceStart: 0n, sourceEnd: 4n, targetStart: 0n },
      { sourceStart: 6n, sourceEnd: 7n, targetStart: 5n },
    ]);
    expect(translateOffset(runs, 3n)).toBe(3n);
    expect(translateOffset(runs, 5n)).toBe(5n); // committed at the marker: the next record is 6 → 5
    expect(translateOffset(runs, 6n)).toBe(5n);
    expect(translateOffset(runs, 7n)).toBe(6n);
    expect(translateOffset(runs, 8n)).toBe(7n); // caught up
    expect(translateOffset(runs, 20n)).toBe(7n); // ahead of the mirror: re-read, never skipped
    expect(translateOffset([], 3n)).toBeUndefined();
    expect(translateOffset(runs.slice(1), 2n)).toBeUndefined(); // older than the runs remember
  });

  it('maps every committed offset to the target offset of the next mirrored record (model check)', () => {
    fc.assert(
      fc.property(
        // Source offsets with gaps, cut into batches.
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 3 }), batchEnd: fc.boolean() }), {
          minLength: 1,
          maxLength: 60,
        }),
        (steps) => {
          const sources: bigint[] = [];
          let offset = 0n;
          for (const s of steps) {
            offset += BigInt(s.gap);
            sources.push(offset);
            offset += 1n;
          }
          const batches: { sources: bigint[]; targetBase: bigint }[] = [];
          let current: bigint[] = [];
          let target = 0n;
          steps.forEach((s, i) => {
            current.push(sources[i]!);
            if (s.batchEnd || i === steps.length - 1) {
              batches.push({ sources: current, targetBase: target });
              target += BigInt(current.length);
              current = [];
            }
          });
          const runs = runsOf(batches);
          for (let committed = sources[0]!; committed <= offset; committed++) {
            const next = sources.findIndex((s) => s >= committed);
            const want = next === -1 ? BigInt(sources.length) : BigInt(next);
            expect(translateOffset(runs, committed)).toBe(want);
          }
        },
      ),
    );
  });
});
