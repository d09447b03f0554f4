import { AdminError } from '@fjord/fleet';
import { brokerKey } from '../brokerSpec.js';
import { type FlowContext, PermanentError, until, withInstanceAdmins } from '../context.js';
import { planRebalance } from '../rebalancePlan.js';
import { awaitBrokerReady, loadInstance, startBroker, stopBroker } from './brokers.js';
import { applyLiveSpec } from './liveSpec.js';

/** Starts every placement not yet running (all of them on create, the new ones on resize). */
async function bringUpBrokers(ctx: FlowContext): Promise<void> {
  const ins = await loadInstance(ctx);
  await Promise.all(
    ins.brokers
      .filter((b) => b.status !== 'RUNNING')
      .map(async (b) => {
        let placed = b;
        await ctx.steps.run(`start-broker-${b.brokerId}`, async () => {
          placed = await startBroker(ctx, ins, b);
          return { host: placed.host, ports: placed.ports as Record<string, number> };
        });
        await ctx.steps.run(`ready-broker-${b.brokerId}`, () =>
          awaitBrokerReady(ctx, ins, placed).then(() => true),
        );
      }),
  );
}

async function markRunning(ctx: FlowContext): Promise<void> {
  await ctx.prisma.instance.update({
    where: { id: ctx.op.instanceId! },
    data: { status: 'RUNNING', statusReason: null, version: { increment: 1 } },
  });
}

export async function createInstance(ctx: FlowContext): Promise<void> {
  await bringUpBrokers(ctx);
  await markRunning(ctx);
}

/**
 * Spreads existing replicas onto the brokers a resize added (clustered instances): Kafka's
 * reassignment adds the new replicas, lets them catch up and only then drops the old ones, so
 * clients keep producing and consuming. Re-running after a crash waits for what was submitted and
 * plans again from the layout the cluster reports.
 */
async function rebalance(ctx: FlowContext): Promise<void> {
  const ins = await loadInstance(ctx);
  await withInstanceAdmins(ctx, ins.id, ins.brokers, async (admins) => {
    if (admins.length !== 1) return; // standalone brokers hold no replicas of each other
    const admin = admins[0]!;
    const settled = async () =>
      (await admin.reassignmentsInProgress()) === 0 && (await admin.underReplicatedPartitions()) === 0;
    const timeout = ctx.settings.readyTimeoutMs * 6;
    await until('earlier reassignments to finish', timeout, settled, 500);
    const plan = planRebalance(
      await admin.partitionLayout(),
      ins.brokers.map((b) => ({ id: b.brokerId, zone: b.zone })),
    );
    ctx.log.info({ partitions: plan.length }, 'rebalancing replicas onto the new brokers');
    await admin.reassign(plan);
    await until('reassignments to finish', timeout, settled, 500);
  });
}

export async function resizeInstance(ctx: FlowContext): Promise<void> {
  await bringUpBrokers(ctx);
  await ctx.steps.once('rebalanced', async () => {
    try {
      await rebalance(ctx);
      return true;
    } catch (e) {
      // Brokers without reassignment still get the new brokers; new partitions will use them.
      if (e instanceof AdminError && e.kafkaType === 'UNSUPPORTED_VERSION')
        return 'not supported by the brokers';
      throw e;
    }
  });
  // Bandwidth and partition limit reach the running brokers now, no restart (the disk size is a
  // control-plane figure).
  await ctx.steps.once('live-spec', async () => {
    const ins = await loadInstance(ctx);
    await applyLiveSpec(
      ctx,
      ins,
      ins.brokers.filter((b) => b.status === 'RUNNING'),
    );
    return true;
  });
  await markRunning(ctx);
}

export async function deleteInstance(ctx: FlowContext): Promise<void> {
  const ins = await loadInstance(ctx);
  await Promise.all(
    ins.brokers.map((b) =>
      ctx.steps.run(`remove-broker-${b.brokerId}`, async () => {
        await ctx.fleet.removeBroker(b.zone, brokerKey(ins.id, b.brokerId));
        await ctx.prisma.brokerPlacement.deleteMany({ where: { instanceId: ins.id, brokerId: b.brokerId } });
        return true;
      }),
    ),
  );
  await ctx.steps.run('forget-metadata', async () => {
    const clusterId = ins.clusterId ?? ins.id;
    await ctx.prisma.metadataLog.deleteMany({ where: { clusterId } });
    await ctx.prisma.controllerLease.deleteMany({ where: { clusterId } });
    await ctx.prisma.metadataSnapshot.deleteMany({ where: { clusterId } });
    return true;
  });
  await ctx.prisma.instance.update({
    where: { id: ins.id },
    data: { status: 'DELETED', statusReason: null, deletedAt: new Date(), version: { increment: 1 } },
  });
}

/**
 * One broker at a time: wait until no partition is under-replicated, stop it (controlled shutdown),
 * start it, wait until it answers and its replicas are back in sync. Each broker's restart is
 * recorded, so a new worker continues with the next one.
 */
export async function restartInstance(ctx: FlowContext): Promise<void> {
  const ins = await loadInstance(ctx);
  const brokers = [...ins.brokers].sort((a, b) => a.brokerId - b.brokerId);
  const noUnderReplicated = () =>
    withInstanceAdmins(ctx, ins.id, brokers, async (admins) => {
      for (const a of admins) if ((await a.underReplicatedPartitions()) > 0) return false;
      return true;
    });
  const atRisk = (brokerId: number) =>
    withInstanceAdmins(ctx, ins.id, brokers, async (admins) =>
      (await Promise.all(admins.map((a) => a.partitionsAtRiskWithout(brokerId)))).flat(),
    );
  for (const b of brokers) {
    await ctx.steps.once(`restarted-broker-${b.brokerId}`, async () => {
      await until(
        'under-replicated partitions to reach 0',
        ctx.settings.readyTimeoutMs * 6,
        noUnderReplicated,
        500,
      );
      // With every replica in sync, a partition still at risk has no spare in-sync replica at all
      // (replication factor = min.insync.replicas): refuse rather than take it below.
      const risky = await atRisk(b.brokerId);
      if (risky.length > 0)
        throw new PermanentError(
          'below_min_insync_replicas',
          `stopping broker ${b.brokerId} would take ${risky.length} partition(s) below min.insync.replicas, e.g. ` +
            `${risky[0]!.topic}-${risky[0]!.partition} (ISR ${risky[0]!.isr}, min.insync.replicas ${risky[0]!.minIsr})`,
        );
      await stopBroker(ctx, b);
      await startBroker(ctx, ins, b);
      await awaitBrokerReady(ctx, ins, b);
      await until(
        'under-replicated partitions to reach 0',
        ctx.settings.readyTimeoutMs * 6,
        noUnderReplicated,
        500,
      );
      return new Date().toISOString();
    });
  }
  await markRunning(ctx);
}
