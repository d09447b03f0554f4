import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planRebalance } from '../src/rebalancePlan.js';

const brokers = [
  { id: 1, zone: 'az-1' },
  { id: 2, zone: 'az-2' },
  { id: 3, zone: 'az-3' },
  { id: 4, zone: 'az-1' },
];

describe('rebalance after adding brokers', () => {
  it('moves replicas onto the new broker until loads are within one of each other', () => {
    const partitions = Array.from({ length: 6 }, (_, i) => ({
      topic: 't',
      partition: i,
      replicas: [(i % 3) + 1, ((i + 1) % 3) + 1],
    }));
    const plan = planRebalance(partitions, brokers);
    const after = partitions.map((p) => plan.find((x) => x.partition === p.partition) ?? p);
    const load = new Map<number, number>();
    for (const p of after) for (const r of p.replicas) load.set(r, (load.get(r) ?? 0) + 1);
    expect(load.get(4)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...load.values()) - Math.min(...load.values())).toBeLessThanOrEqual(1);
    for (const p of after) expect(new Set(p.replicas).size).toBe(p.replicas.length);
  });

  it('never doubles a replica, never worsens balance, and leaves a balanced layout alone', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }), {
          maxLength: 30,
        }),
        (layouts) => {
          const partitions = layouts.map((replicas, i) => ({ topic: 't', partition: i, replicas }));
          const plan = planRebalance(partitions, brokers);
          const after = partitions.map((p) => plan.find((x) => x.partition === p.partition) ?? p);
          const spread = (ps: readonly { replicas: readonly number[] }[]) => {
            const load = new Map(brokers.map((b) => [b.id, 0]));
            for (const p of ps) for (const r of p.replicas) load.set(r, load.get(r)! + 1);
            return Math.max(...load.values()) - Math.min(...load.values());
          };
          const zones = (p: { replicas: readonly number[] }) =>
            new Set(p.replicas.map((r) => brokers[r - 1]!.zone)).size;
          for (const [i, p] of after.entries()) {
            expect(new Set(p.replicas).size).toBe(p.replicas.length);
            expect(zones(p)).toBeGreaterThanOrEqual(zones(partitions[i]!));
          }
          expect(spread(after)).toBeLessThanOrEqual(Math.max(1, spread(partitions)));
          expect(planRebalance(after, brokers)).toEqual([]);
        },
      ),
    );
  });
});
