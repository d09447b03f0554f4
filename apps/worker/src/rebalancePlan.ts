export interface PartitionReplicas {
  readonly topic: string;
  readonly partition: number;
  readonly replicas: readonly number[];
}

export interface BrokerZone {
  readonly id: number;
  readonly zone: string;
}

/**
 * Moves single replicas to a broker holding at least two fewer replicas (each move strictly evens the
 * load, so it ends), never putting two replicas of a partition on one broker and
 * preferring a zone the partition does not use yet. Only partitions that change are returned, so
 * existing replicas stay where they are as far as balance allows (fewest bytes moved).
 */
export function planRebalance(
  partitions: readonly PartitionReplicas[],
  brokers: readonly BrokerZone[],
): PartitionReplicas[] {
  const zoneOf = new Map(brokers.map((b) => [b.id, b.zone]));
  const load = new Map(brokers.map((b) => [b.id, 0]));
  const current = partitions.map((p) => ({ ...p, replicas: [...p.replicas] }));
  for (const p of current) for (const r of p.replicas) load.set(r, (load.get(r) ?? 0) + 1);
  const changed = new Set<number>();
  const sorted = [...current.keys()].sort((a, b) =>
    current[a]!.topic === current[b]!.topic
      ? current[a]!.partition - current[b]!.partition
      : current[a]!.topic.localeCompare(current[b]!.topic),
  );
  for (let moved = true; moved; ) {
    moved = false;
    for (const i of sorted) {
      const p = current[i]!;
      for (let slot = p.replicas.length - 1; slot >= 0; slot--) {
        const from = p.replicas[slot]!;
        const usedZones = new Set(p.replicas.filter((r) => r !== from).map((r) => zoneOf.get(r)));
        const candidates = brokers
          .filter(
            (b) =>
              !p.replicas.includes(b.id) &&
              load.get(b.id)! + 1 < load.get(from)! &&
              // Balance never costs AZ spread: a zone already used by the partition is taken only
              // when the replica being moved shares a zone too.
              (!usedZones.has(b.zone) || usedZones.has(zoneOf.get(from))),
          )
          .sort(
            (a, b) =>
              Number(usedZones.has(a.zone)) - Number(usedZones.has(b.zone)) ||
              load.get(a.id)! - load.get(b.id)! ||
              a.id - b.id,
          );
        const to = candidates[0];
        if (!to) continue;
        p.replicas[slot] = to.id;
        load.set(from, load.get(from)! - 1);
        load.set(to.id, load.get(to.id)! + 1);
        changed.add(i);
        moved = true;
      }
    }
  }
  return [...changed].sort((a, b) => a - b).map((i) => current[i]!);
}
