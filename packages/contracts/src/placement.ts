/** Where brokers of one instance go: pure, shared by the API (refuse up front) and the worker. */
export interface PlacedBroker {
  readonly brokerId: number;
  readonly zone: string;
}

export interface ZoneRoom {
  readonly name: string;
  /** Brokers the zone can still take (capacity minus brokers of all instances placed there). */
  readonly free: number;
}

export type PlacementPlan =
  | { readonly ok: true; readonly add: PlacedBroker[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Adds brokers until the instance has `targetCount`, each in the instance zone that has the fewest
 * of its brokers so far (zone order breaks ties), which spreads replicas across AZs. Existing
 * brokers never move. Broker ids continue from the highest existing id.
 */
export function planPlacement(
  existing: readonly PlacedBroker[],
  targetCount: number,
  zones: readonly ZoneRoom[],
): PlacementPlan {
  if (targetCount < existing.length)
    return { ok: false, reason: `removing brokers is not supported (${existing.length} → ${targetCount})` };
  const perZone = new Map(zones.map((z) => [z.name, 0]));
  for (const b of existing) perZone.set(b.zone, (perZone.get(b.zone) ?? 0) + 1);
  const free = new Map(zones.map((z) => [z.name, z.free]));
  let nextId = existing.reduce((m, b) => Math.max(m, b.brokerId), 0) + 1;
  const add: PlacedBroker[] = [];
  for (let i = existing.length; i < targetCount; i++) {
    let best: string | undefined;
    for (const z of zones) {
      if ((free.get(z.name) ?? 0) <= 0) continue;
      if (best === undefined || perZone.get(z.name)! < perZone.get(best)!) best = z.name;
    }
    if (best === undefined)
      return {
        ok: false,
        reason: `zones ${zones.map((z) => z.name).join(', ')} have room for ${add.length} more broker(s), ${targetCount - existing.length} needed`,
      };
    add.push({ brokerId: nextId++, zone: best });
    perZone.set(best, perZone.get(best)! + 1);
    free.set(best, free.get(best)! - 1);
  }
  return { ok: true, add };
}
