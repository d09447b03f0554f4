/** Where brokers of one instance go: pure, shared by the API (refuse up front) and the worker. */
export interface PlacedBroker {
  readonly brokerId: number;
  readonly zone: string;
}

/** A new broker: its zone and the host of that zone that runs it. */
export interface NewBroker extends PlacedBroker {
  readonly host: string;
}

/** An active host of a zone (draining hosts take no brokers and are left out). */
export interface HostRoom {
  readonly id: string;
  /** Broker slots left (capacity minus brokers of all instances on it). */
  readonly free: number;
}

export interface ZoneRoom {
  readonly name: string;
  readonly hosts: readonly HostRoom[];
}

export type PlacementPlan =
  | { readonly ok: true; readonly add: NewBroker[] }
  | { readonly ok: false; readonly reason: string };

/** Brokers hosts can still take together. */
const freeSlots = (hosts: readonly HostRoom[]): number => hosts.reduce((n, h) => n + Math.max(0, h.free), 0);

/** The host with the most free slots (the first of equals), undefined when every host is full. */
export function pickHost<H extends HostRoom>(hosts: readonly H[]): H | undefined {
  let best: H | undefined;
  for (const h of hosts) if (h.free > 0 && (!best || h.free > best.free)) best = h;
  return best;
}

/**
 * Adds brokers until the instance has `targetCount`, each in the instance zone that has the fewest
 * of its brokers so far (zone order breaks ties), which spreads replicas across AZs, and within
 * that zone on the active host with the most free slots. Existing brokers never move. Broker ids
 * continue from the highest existing id.
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
  const hosts = new Map(zones.map((z) => [z.name, z.hosts.map((h) => ({ ...h }))]));
  let nextId = existing.reduce((m, b) => Math.max(m, b.brokerId), 0) + 1;
  const add: NewBroker[] = [];
  for (let i = existing.length; i < targetCount; i++) {
    let best: string | undefined;
    for (const z of zones) {
      if (freeSlots(hosts.get(z.name)!) <= 0) continue;
      if (best === undefined || perZone.get(z.name)! < perZone.get(best)!) best = z.name;
    }
    if (best === undefined)
      return {
        ok: false,
        reason: `zones ${zones.map((z) => z.name).join(', ')} have room for ${add.length} more broker(s), ${targetCount - existing.length} needed`,
      };
    const host = pickHost(hosts.get(best)!)!;
    add.push({ brokerId: nextId++, zone: best, host: host.id });
    perZone.set(best, perZone.get(best)! + 1);
    host.free--;
  }
  return { ok: true, add };
}

export type HostDrainPlan =
  | { readonly ok: true; readonly moves: readonly { readonly brokerId: number; readonly host: string }[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Where the brokers of a host being drained go: each, in order, to the other active host of the
 * zone with the most free slots then. Refused when those hosts lack the slots.
 */
export function planHostDrain(
  brokers: readonly { readonly brokerId: number }[],
  others: readonly HostRoom[],
): HostDrainPlan {
  const room = others.map((h) => ({ ...h }));
  const moves: { brokerId: number; host: string }[] = [];
  for (const b of brokers) {
    const to = pickHost(room);
    if (!to) {
      const free = freeSlots(others);
      return {
        ok: false,
        reason:
          room.length === 0
            ? `the zone has no other active host to take its ${brokers.length} broker(s)`
            : `the zone's other active hosts (${room.map((h) => h.id).join(', ')}) have ${free} free slot(s), ${brokers.length} needed`,
      };
    }
    moves.push({ brokerId: b.brokerId, host: to.id });
    to.free--;
  }
  return { ok: true, moves };
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
