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

export type RemovalPlan =
  | { readonly ok: true; readonly remove: PlacedBroker[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Which brokers leave when an instance shrinks to `targetCount`: always from the zone holding the
 * most of its brokers (so the rest keep spanning every zone as long as there are enough), the
 * highest broker id of that zone first. Refused when fewer brokers than zones would remain.
 */
export function planRemoval(
  existing: readonly PlacedBroker[],
  targetCount: number,
  zones: readonly string[],
): RemovalPlan {
  if (targetCount < zones.length)
    return {
      ok: false,
      reason: `${targetCount} broker(s) cannot span the instance's ${zones.length} zones (${zones.join(', ')})`,
    };
  const byZone = new Map<string, PlacedBroker[]>();
  for (const b of existing) byZone.set(b.zone, [...(byZone.get(b.zone) ?? []), b]);
  for (const list of byZone.values()) list.sort((a, b) => a.brokerId - b.brokerId);
  const remove: PlacedBroker[] = [];
  for (let left = existing.length; left > targetCount; left--) {
    let from: PlacedBroker[] | undefined;
    for (const list of byZone.values()) {
      if (list.length === 0) continue;
      // Most brokers first; between equal zones the one whose highest id is higher.
      if (
        !from ||
        list.length > from.length ||
        (list.length === from.length && list.at(-1)!.brokerId > from.at(-1)!.brokerId)
      )
        from = list;
    }
    remove.push(from!.pop()!);
  }
  return { ok: true, remove };
}
