import type { BrokerZone, PartitionReplicas } from './rebalancePlan.js';

export class DrainImpossible extends Error {}

/**
 * Moves every replica off the `leaving` brokers onto the others, so they can be removed without
 * any partition losing a replica: each replica on a leaving broker is replaced in its slot by a
 * remaining broker that does not hold the partition yet, preferring a zone the partition's other
 * replicas do not use (one replica per zone where possible), then the least loaded broker, then the
 * lowest id. Replicas on remaining brokers stay where they are (fewest bytes moved). Only partitions
 * that change are returned. Throws when the remaining brokers are fewer than a partition's replicas:
 * a partition never drops below its replication factor.
 */
export function planDrain(
  partitions: readonly PartitionReplicas[],
  brokers: readonly BrokerZone[],
  leaving: ReadonlySet<number>,
): PartitionReplicas[] {
  const remaining = brokers.filter((b) => !leaving.has(b.id));
  const zoneOf = new Map(brokers.map((b) => [b.id, b.zone]));
  const load = new Map(remaining.map((b) => [b.id, 0]));
  for (const p of partitions) for (const r of p.replicas) if (load.has(r)) load.set(r, load.get(r)! + 1);
  const sorted = [...partitions].sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic.localeCompare(b.topic),
  );
  const plan: PartitionReplicas[] = [];
  for (const p of sorted) {
    if (!p.replicas.some((r) => leaving.has(r))) continue;
    const replicas = [...p.replicas];
    for (let slot = 0; slot < replicas.length; slot++) {
      if (!leaving.has(replicas[slot]!)) continue;
      const usedZones = new Set(
        replicas.filter((r, i) => i !== slot && !leaving.has(r)).map((r) => zoneOf.get(r)),
      );
      const to = remaining
        .filter((b) => !replicas.includes(b.id))
        .sort(
          (a, b) =>
            Number(usedZones.has(a.zone)) - Number(usedZones.has(b.zone)) ||
            load.get(a.id)! - load.get(b.id)! ||
            a.id - b.id,
        )[0];
      if (!to)
        throw new DrainImpossible(
          `${p.topic}-${p.partition} has ${p.replicas.length} replicas but only ${remaining.length} broker(s) would remain`,
        );
      replicas[slot] = to.id;
      load.set(to.id, load.get(to.id)! + 1);
    }
    plan.push({ topic: p.topic, partition: p.partition, replicas });
  }
  return plan;
}
