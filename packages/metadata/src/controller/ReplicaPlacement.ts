/**
 * Rack-aware replica placement. Brokers are ordered so racks alternate (a1, b1, c1, a2, b2…),
 * partitions stripe across that order, and followers skip brokers whose rack already holds a
 * replica of the partition while an unused rack remains — so with as many racks (AZs) as
 * replicas, every replica of a partition lands in a different AZ, and leaders spread evenly.
 */
export interface PlacementBroker {
  readonly brokerId: number;
  readonly rack: string | null;
}

export class PlacementError extends Error {}

export function rackAlternatingOrder(brokers: readonly PlacementBroker[]): PlacementBroker[] {
  const byRack = new Map<string, PlacementBroker[]>();
  for (const b of [...brokers].sort((x, y) => x.brokerId - y.brokerId)) {
    const rack = b.rack ?? '';
    const list = byRack.get(rack) ?? [];
    list.push(b);
    byRack.set(rack, list);
  }
  const racks = [...byRack.keys()].sort();
  const ordered: PlacementBroker[] = [];
  for (let i = 0; ordered.length < brokers.length; i++) {
    for (const rack of racks) {
      const b = byRack.get(rack)![i];
      if (b) ordered.push(b);
    }
  }
  return ordered;
}

/**
 * Assigns `replicationFactor` replicas to partitions `firstPartition..firstPartition+count-1`.
 * `startIndex` rotates where striping begins (callers pass a random or topic-derived value).
 */
export function placeReplicas(
  brokers: readonly PlacementBroker[],
  firstPartition: number,
  count: number,
  replicationFactor: number,
  startIndex = 0,
): number[][] {
  if (replicationFactor < 1) throw new PlacementError('replication factor must be at least 1');
  if (replicationFactor > brokers.length)
    throw new PlacementError(
      `replication factor ${replicationFactor} is larger than the ${brokers.length} available broker(s)`,
    );
  const ordered = rackAlternatingOrder(brokers);
  const n = ordered.length;
  const result: number[][] = [];
  for (let p = firstPartition; p < firstPartition + count; p++) {
    const leaderIndex = (startIndex + p) % n;
    const chosen = [ordered[leaderIndex]!];
    const usedRacks = new Set([ordered[leaderIndex]!.rack ?? '']);
    const racksTotal = new Set(ordered.map((b) => b.rack ?? '')).size;
    // Shift followers by p / n so consecutive stripes don't repeat the same follower pattern.
    const shift = Math.floor(p / n) % Math.max(1, n - 1);
    for (let step = 1; chosen.length < replicationFactor && step < 2 * n; step++) {
      const candidate = ordered[(leaderIndex + step + shift) % n]!;
      if (chosen.includes(candidate)) continue;
      const rack = candidate.rack ?? '';
      if (usedRacks.has(rack) && usedRacks.size < racksTotal) continue;
      chosen.push(candidate);
      usedRacks.add(rack);
    }
    for (let step = 1; chosen.length < replicationFactor; step++) {
      const candidate = ordered[(leaderIndex + step) % n]!;
      if (!chosen.includes(candidate)) chosen.push(candidate);
    }
    result.push(chosen.map((b) => b.brokerId));
  }
  return result;
}
