import type { HostRoom } from '@fjord/contracts';
import type { Host, Prisma, PrismaClient } from '@fjord/db';

type Db = PrismaClient | Prisma.TransactionClient;

/** Hosts of the given zones (by zone, then id) with the brokers of every instance placed on each. */
export async function hostsWithUse(db: Db, zones: readonly string[]): Promise<(Host & { used: number })[]> {
  const [hosts, used] = await Promise.all([
    db.host.findMany({ where: { zone: { in: [...zones] } }, orderBy: [{ zone: 'asc' }, { id: 'asc' }] }),
    db.brokerPlacement.groupBy({
      by: ['zone', 'hostId'],
      where: { zone: { in: [...zones] } },
      _count: { _all: true },
    }),
  ]);
  const usedBy = new Map(used.map((u) => [`${u.zone}/${u.hostId}`, u._count._all]));
  return hosts.map((h) => ({ ...h, used: usedBy.get(`${h.zone}/${h.id}`) ?? 0 }));
}

/** What a host can still take, for the planners: only active hosts take brokers. */
export const roomOf = (h: Host & { used: number }): HostRoom => ({ id: h.id, free: h.capacity - h.used });

/** Room left per zone: its active hosts with their free slots; `known` whether the zone exists. */
export async function zoneRoom(db: Db, zones: readonly string[]) {
  const [known, hosts] = await Promise.all([
    db.zone.findMany({ where: { name: { in: [...zones] } }, select: { name: true } }),
    hostsWithUse(db, zones),
  ]);
  const names = new Set(known.map((z) => z.name));
  return zones.map((name) => ({
    name,
    known: names.has(name),
    hosts: hosts.filter((h) => h.zone === name && h.state === 'active').map(roomOf),
  }));
}
