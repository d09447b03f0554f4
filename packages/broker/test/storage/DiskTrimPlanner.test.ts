import { describe, expect, it } from 'vitest';
import { planDiskTrim, type TrimCandidate } from '../../src/storage/DiskTrimPlanner.js';

const seg = (sizeBytes: number, largestTimestamp: number) => ({ sizeBytes, largestTimestamp });

describe('planDiskTrim', () => {
  it('deletes nothing while usage is below the high-water mark', () => {
    const plan = planDiskTrim(899, 900, [{ key: 'a-0', segments: [seg(100, 1)] }]);
    expect(plan).toEqual({ deletions: new Map(), freedBytes: 0, usedAfter: 899 });
  });

  it('takes the oldest segments across partitions first, and only until usage is below the mark', () => {
    const candidates: TrimCandidate[] = [
      { key: 'a-0', segments: [seg(100, 10), seg(100, 40), seg(100, 70)] },
      { key: 'b-0', segments: [seg(100, 20), seg(100, 30), seg(100, 80)] },
    ];
    // 1000 used, mark 700: three segments of 100 leave 700, still at the mark, so a fourth goes.
    const plan = planDiskTrim(1000, 700, candidates);
    expect(plan.deletions).toEqual(
      new Map([
        ['a-0', 2],
        ['b-0', 2],
      ]),
    );
    expect(plan.freedBytes).toBe(400);
    expect(plan.usedAfter).toBe(600);
  });

  it("keeps each partition's order: a newer head blocks an older segment behind it", () => {
    // b-0's second segment is the oldest overall, but its first must go before it can.
    const plan = planDiskTrim(500, 450, [
      { key: 'a-0', segments: [seg(100, 5)] },
      { key: 'b-0', segments: [seg(100, 50), seg(100, 1)] },
    ]);
    expect(plan.deletions).toEqual(new Map([['a-0', 1]]));
  });

  it('stops when nothing more may go, reporting usage still at or above the mark', () => {
    const plan = planDiskTrim(1000, 500, [
      { key: 'a-0', segments: [seg(200, 1)] },
      { key: 'b-0', segments: [] },
    ]);
    expect(plan.deletions).toEqual(new Map([['a-0', 1]]));
    expect(plan.usedAfter).toBe(800);
  });
});
