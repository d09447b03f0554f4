import { HostDrainInput, pickHost } from '@fjord/contracts';
import { hostsWithUse, roomOf } from '@fjord/provisioning';
import { brokerKey } from '../brokerSpec.js';
import { type FlowContext, operationInput, PermanentError } from '../context.js';
import { awaitBrokerReady, startBroker } from './brokers.js';
import { awaitRollingSettled } from './instanceFlows.js';

type BrokerRef = { instanceId: string; brokerId: number };

/**
 * Host drain (maintenance): the API marked the host draining, so it takes no new brokers. Each of
 * its brokers, one at a time, moves to the active host of the zone with the most free slots: it
 * is stopped (a controlled shutdown hands its leadership on), started with the same node id on the
 * new host with empty data — it re-replicates from the in-sync replicas, as a replaced broker does
 * — and, once nothing of its instance is under-replicated, removed with its data from the old host.
 */
export async function drainHost(ctx: FlowContext): Promise<void> {
  const { zone, host } = operationInput(ctx, HostDrainInput);
  await ctx.steps.once('brokers', async () =>
    (
      await ctx.prisma.brokerPlacement.findMany({
        where: { zone, hostId: host },
        orderBy: [{ instanceId: 'asc' }, { brokerId: 'asc' }],
      })
    ).map((b) => ({ instanceId: b.instanceId, brokerId: b.brokerId })),
  );
  const brokers = ctx.steps.progress.brokers as BrokerRef[];
  for (const b of brokers) {
    const k = `${b.instanceId}-${b.brokerId}`;
    await ctx.steps.once(`rehomed-${k}`, () => rehome(ctx, zone, host, b));
    await ctx.steps.once(`moved-${k}`, () => moveBroker(ctx, zone, host, b));
  }
  const left = await ctx.prisma.brokerPlacement.count({ where: { zone, hostId: host } });
  if (left > 0) throw new Error(`${left} broker(s) are still placed on host ${host} of ${zone}`);
}

/**
 * Chooses the broker's new host (the other active host of the zone with the most free slots) and
 * records it on the placement, before anything is stopped: with no slot left the drain fails and
 * the broker keeps running where it is. Returns the new host ('gone' if the broker was removed).
 */
async function rehome(ctx: FlowContext, zone: string, drained: string, id: BrokerRef): Promise<string> {
  const where = { instanceId_brokerId: id };
  return ctx.prisma.$transaction(async (tx) => {
    // The lock placement takes: the slot chosen here is not taken by a create at the same time.
    await tx.$queryRaw`SELECT name FROM "Zone" WHERE name = ${zone} FOR UPDATE`;
    const placed = await tx.brokerPlacement.findUnique({ where });
    if (!placed) return 'gone'; // its instance was deleted or shrunk meanwhile
    if (placed.hostId !== drained) return placed.hostId;
    const others = (await hostsWithUse(tx, [zone])).filter((h) => h.state === 'active' && h.id !== drained);
    const to = pickHost(others.map(roomOf))?.id;
    if (!to)
      throw new PermanentError(
        'no_capacity',
        `no other active host of ${zone} has a free slot for broker ${id.brokerId} of ${id.instanceId}`,
      );
    // MOVING keeps the health reconciler off it (it watches RUNNING placements) while it moves.
    await tx.brokerPlacement.update({ where, data: { hostId: to, status: 'MOVING' } });
    return to;
  });
}

/**
 * Moves a rehomed broker: stop it on the drained host, start it on its new one, wait until its
 * instance is in sync again, remove it from the drained host. Every part can run again after a crash.
 */
async function moveBroker(ctx: FlowContext, zone: string, drained: string, id: BrokerRef): Promise<string> {
  const b = await ctx.prisma.brokerPlacement.findUnique({ where: { instanceId_brokerId: id } });
  if (!b) return 'gone';
  const from = { zone, host: drained };
  const key = brokerKey(id.instanceId, id.brokerId);
  // One process per node id: the old one goes first (a controlled shutdown hands leadership on).
  await ctx.fleet.stopBroker(from, key);
  ctx.log.info({ ...id, from: drained, to: b.hostId }, 'moving broker to another host');
  const ins = await ctx.prisma.instance.findUniqueOrThrow({ where: { id: id.instanceId } });
  const started = await startBroker(ctx, ins, b);
  await awaitBrokerReady(ctx, ins, started);
  const brokers = await ctx.prisma.brokerPlacement.findMany({ where: { instanceId: id.instanceId } });
  await awaitRollingSettled(ctx, brokers, id.instanceId);
  await ctx.fleet.removeBroker(from, key);
  return b.hostId;
}
