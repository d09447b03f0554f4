import { planRemoval } from '@fjord/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DrainImpossible, planDrain } from '../src/drainPlan.js';
import type { BrokerZone, PartitionReplicas } from '../src/rebalancePlan.js';

const zonesOf = (ids: readonly number[], brokers: readonly BrokerZone[]) =>
  new Set(ids.map((id) => brokers.find((b) => b.id === id)!.zone));

const applied = (partitions: readonly PartitionReplicas[], plan: readonly PartitionReplicas[]) =>
  partitions.map((p) => plan.find((x) => x.topic === p.topic && x.partition === p.partition) ?? p);

describe('drain before removing brokers', () => {
  const six = [1, 2, 3, 4, 5, 6].map((id) => ({ id, zone: `az-${((id - 1) % 3) + 1}` }));

  it('replaces a leaving replica in its slot with a broker of the zone the partition lost', () => {
    const plan = planDrain([{ topic: 't', partition: 0, replicas: [4, 2, 3] }], six, new Set([4, 5, 6]));
    // Broker 4 was the partition's az-1 replica: broker 1 (az-1) takes its slot.
    expect(plan).toEqual([{ topic: 't', partition: 0, replicas: [1, 2, 3] }]);
  });

  it('leaves partitions without replicas on leaving brokers alone', () => {
    expect(planDrain([{ topic: 't', partition: 0, replicas: [1, 2, 3] }], six, new Set([4]))).toEqual([]);
  });

  it('refuses when fewer brokers would remain than a partition has replicas', () => {
    expect(() =>
      planDrain([{ topic: 't', partition: 0, replicas: [1, 2, 3] }], six.slice(0, 3), new Set([3])),
    ).toThrow(DrainImpossible);
  });

  it('keeps every partition at its replication factor, off the leaving brokers, zones spread where possible', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }).chain((n) =>
          fc.record({
            zoneCount: fc.integer({ min: 1, max: 4 }),
            brokerZones: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
            leavingMask: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
            layouts: fc.array(
              fc.uniqueArray(fc.integer({ min: 1, max: n }), { minLength: 1, maxLength: 3 }),
              {
                maxLength: 40,
              },
            ),
          }),
        ),
        ({ zoneCount, brokerZones, leavingMask, layouts }) => {
          const brokers = brokerZones.map((z, i) => ({ id: i + 1, zone: `az-${(z % zoneCount) + 1}` }));
          const leaving = new Set(brokers.filter((_, i) => leavingMask[i]).map((b) => b.id));
          const remaining = brokers.filter((b) => !leaving.has(b.id));
          const partitions = layouts.map((replicas, i) => ({ topic: `t${i % 3}`, partition: i, replicas }));
          const widest = Math.max(0, ...layouts.map((l) => l.length));
          if (widest > remaining.length) {
            if (layouts.some((l) => l.some((r) => leaving.has(r)) && l.length > remaining.length))
              expect(() => planDrain(partitions, brokers, leaving)).toThrow(DrainImpossible);
            return;
          }
          const plan = planDrain(partitions, brokers, leaving);
          const after = applied(partitions, plan);
          const remainingZones = new Set(remaining.map((b) => b.zone)).size;
          after.forEach((p, i) => {
            const before = partitions[i]!;
            expect(p.replicas).toHaveLength(before.replicas.length);
            expect(new Set(p.replicas).size).toBe(p.replicas.length);
            expect(p.replicas.filter((r) => leaving.has(r))).toEqual([]);
            // Replicas on remaining brokers never move.
            for (const r of before.replicas) if (!leaving.has(r)) expect(p.replicas).toContain(r);
            // Zone spread is kept as far as the remaining brokers' zones allow.
            expect(zonesOf(p.replicas, brokers).size).toBeGreaterThanOrEqual(
              Math.min(zonesOf(before.replicas, brokers).size, remainingZones),
            );
          });
          // Only partitions that had a replica on a leaving broker are in the plan.
          for (const p of plan)
            expect(
              partitions.find((x) => x.partition === p.partition)!.replicas.some((r) => leaving.has(r)),
            ).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('which brokers leave', () => {
  const placed = (zones: string[]) => zones.map((zone, i) => ({ brokerId: i + 1, zone }));

  it('takes the highest ids from the fullest zones, so the rest still span every zone', () => {
    const six = placed(['az-1', 'az-2', 'az-3', 'az-1', 'az-2', 'az-3']);
    const plan = planRemoval(six, 3, ['az-1', 'az-2', 'az-3']);
    expect(plan.ok && plan.remove.map((b) => b.brokerId)).toEqual([6, 5, 4]);
    // 1, 2 and 4 are in az-1, az-2, az-1: broker 4 leaves, not 3 (the only az-3 broker).
    const uneven = placed(['az-1', 'az-2', 'az-3', 'az-1']);
    const one = planRemoval(uneven, 3, ['az-1', 'az-2', 'az-3']);
    expect(one.ok && one.remove.map((b) => b.brokerId)).toEqual([4]);
  });

  it('refuses fewer brokers than zones', () => {
    const plan = planRemoval(placed(['az-1', 'az-2', 'az-3']), 2, ['az-1', 'az-2', 'az-3']);
    expect(plan.ok).toBe(false);
  });

  it('always leaves every zone a broker when there are at least as many brokers as zones', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 3, maxLength: 9 }),
        fc.integer({ min: 3, max: 9 }),
        (zoneNos, target) => {
          const zones = ['az-1', 'az-2', 'az-3'];
          const existing = placed([...zones, ...zoneNos.map((z) => `az-${z}`)]);
          if (target > existing.length) return;
          const plan = planRemoval(existing, target, zones);
          expect(plan.ok).toBe(true);
          if (!plan.ok) return;
          expect(plan.remove).toHaveLength(existing.length - target);
          const left = existing.filter((b) => !plan.remove.includes(b));
          expect(new Set(left.map((b) => b.zone)).size).toBe(3);
        },
      ),
    );
  });
});
