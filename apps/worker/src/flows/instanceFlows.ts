import { ResizeInput } from '@fjord/contracts';
import type { BrokerPlacement, Instance } from '@fjord/db';
import { AdminError, type InstanceAdmin, instanceMetadataPassword } from '@fjord/fleet';
import { MetadataSchemaProvisioner } from '@fjord/metadata';
import { brokerKey } from '../brokerSpec.js';
import {
  brokerConfigAdminOf,
  type FlowContext,
  operationInput,
  PermanentError,
  portsOf,
  until,
  withInstanceAdmins,
} from '../context.js';
import { DrainImpossible, planDrain } from '../drainPlan.js';
import {
  type PartitionReplicas,
  THROTTLE_RATE_KEYS,
  THROTTLE_TOPIC_KEYS,
  throttledReplicasOf,
  throttleRates,
} from '../reassignmentThrottle.js';
import { planRebalance } from '../rebalancePlan.js';
import { STOPPED_STEP } from '../steps.js';
import { syncAnonymousGrants } from './anonymousGrants.js';
import { awaitBrokerReady, loadInstance, startBroker, stopBroker, targetOf } from './brokers.js';
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

export async function markRunning(ctx: FlowContext, brokerCount?: number): Promise<void> {
  await ctx.prisma.instance.update({
    where: { id: ctx.op.instanceId! },
    data: {
      status: 'RUNNING',
      statusReason: null,
      ...(brokerCount !== undefined ? { brokerCount } : {}),
      version: { increment: 1 },
    },
  });
}

const settledTimeout = (ctx: FlowContext) => ctx.settings.readyTimeoutMs * 6;

async function replicasSettled(admin: InstanceAdmin): Promise<boolean> {
  return (await admin.reassignmentsInProgress()) === 0 && (await admin.underReplicatedPartitions()) === 0;
}

/**
 * What rolling work waits for between brokers, so clients ride through it: no reassignment running
 * and no partition under-replicated, leaders back on their preferred replicas (a preferred leader
 * election, repeated while replicas rejoin), then the settle time, during which clients refresh
 * their metadata and reconnect before the next broker is touched.
 */
export async function awaitRollingSettled(
  ctx: FlowContext,
  brokers: readonly BrokerPlacement[],
  instanceId = ctx.op.instanceId!,
): Promise<void> {
  const settleMs = ctx.settings.rollingSettleMs ?? 10_000;
  await withInstanceAdmins(ctx, instanceId, brokers, async (admins) => {
    const inSync = async () => {
      for (const a of admins)
        await until(
          'under-replicated partitions to reach 0',
          settledTimeout(ctx),
          () => replicasSettled(a),
          500,
        );
    };
    await inSync();
    if (admins.length === 1) {
      const admin = admins[0]!;
      await until(
        'leaders to return to their preferred replicas, all replicas in sync',
        settledTimeout(ctx),
        async () => {
          if ((await admin.nonPreferredLeaders()).length === 0) return replicasSettled(admin);
          // Repeated while replicas rejoin their ISR; a failed election (controller moving) is retried.
          await admin
            .electPreferredLeaders()
            .catch((e) => ctx.log.warn({ err: (e as Error).message }, 'preferred leader election failed'));
          return false;
        },
        1000,
      );
    }
    if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
    // Followers switch to the elected leaders meanwhile: the next broker goes only with all in sync.
    await inSync();
  });
}

/**
 * Gives a clustered instance its own metadata schema and role before any broker starts (ADR 0013).
 * A create begun before this step existed has brokers on the shared tables already: it keeps them.
 */
async function provisionMetadataStore(ctx: FlowContext): Promise<void> {
  const url = ctx.settings.metadataDatabaseUrl;
  if (url === undefined || ctx.steps.done('metadata-store')) return;
  if (Object.keys(ctx.steps.progress).some((step) => step.startsWith('start-broker-'))) return;
  await ctx.steps.run('metadata-store', async () => {
    const id = ctx.op.instanceId!;
    const { role } = await new MetadataSchemaProvisioner(url).provision(
      id,
      instanceMetadataPassword(id, ctx.settings.adminSecret),
    );
    await ctx.prisma.instance.update({ where: { id }, data: { metadataRole: role } });
    return role;
  });
}

export async function createInstance(ctx: FlowContext): Promise<void> {
  await provisionMetadataStore(ctx);
  await bringUpBrokers(ctx);
  await ctx.steps.once('anonymous-grants', () => syncAnonymousGrants(ctx).then(() => true));
  // A step, so that a cancelled create stops before it; and never over a delete's DELETING.
  await ctx.steps.run('running', async () => {
    await ctx.prisma.instance.updateMany({
      where: { id: ctx.op.instanceId!, status: { not: 'DELETING' } },
      data: { status: 'RUNNING', statusReason: null, version: { increment: 1 } },
    });
    return true;
  });
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
    await reassignThrottled(ctx, admin, ins.brokers, await admin.partitionLayout(), plan, () =>
      until('reassignments to finish', timeout, settled, 500),
    );
  });
}

/**
 * Runs a reassignment under Kafka's replication throttles (`settings.reassignmentThrottleBytes`
 * per broker and direction), so catching up new replicas leaves bandwidth to clients; in-sync
 * replication is never throttled. The throttles go when `finished` returns — from every topic
 * and broker, so a run after a crash also clears what an earlier one left.
 */
async function reassignThrottled(
  ctx: FlowContext,
  admin: InstanceAdmin,
  brokers: readonly BrokerPlacement[],
  layout: readonly PartitionReplicas[],
  plan: readonly PartitionReplicas[],
  finished: () => Promise<void>,
): Promise<void> {
  const rate = ctx.settings.reassignmentThrottleBytes ?? 0;
  const throttled = rate > 0 ? throttledReplicasOf(layout, plan) : new Map<string, Record<string, string>>();
  const configAdmins = brokers
    .filter((b) => portsOf(b).CONTROL)
    .map((b) => [b.brokerId, brokerConfigAdminOf(ctx, ctx.op.instanceId!, b)] as const);
  if (throttled.size > 0) {
    for (const [id, a] of configAdmins) await a.set(id, throttleRates(rate));
    for (const [topic, configs] of throttled) await admin.setTopicConfigs(topic, configs);
  }
  await admin.reassign(plan);
  await finished();
  for (const t of await admin.listTopics())
    if (THROTTLE_TOPIC_KEYS.some((k) => k in t.configs))
      await admin.setTopicConfigs(t.name, {}, THROTTLE_TOPIC_KEYS);
  for (const [id, a] of configAdmins) await a.remove(id, THROTTLE_RATE_KEYS);
}

export async function resizeInstance(ctx: FlowContext): Promise<void> {
  const input = operationInput(ctx, ResizeInput);
  if (input.remove.length > 0) return shrinkInstance(ctx, input);
  // Recorded once: after a crash the new brokers may already run, and a spec-only change must not
  // wait on replication it did not disturb (a lagging replica elsewhere would hold it up for nothing).
  await ctx.steps.once('adds', async () =>
    (await loadInstance(ctx)).brokers.filter((b) => b.status !== 'RUNNING').map((b) => b.brokerId),
  );
  const adds = ctx.steps.progress.adds as number[];
  if (adds.length === 0) {
    await liveSpecStep(ctx);
    return markRunning(ctx);
  }
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
  await ctx.steps.once('settled', async () => {
    await awaitRollingSettled(ctx, (await loadInstance(ctx)).brokers);
    return true;
  });
  await liveSpecStep(ctx);
  await markRunning(ctx);
}

/** Bandwidth, partition limit and disk per broker reach the running brokers now, no restart. */
async function liveSpecStep(ctx: FlowContext): Promise<void> {
  await ctx.steps.once('live-spec', async () => {
    const ins = await loadInstance(ctx);
    await applyLiveSpec(
      ctx,
      ins,
      ins.brokers.filter((b) => b.status === 'RUNNING'),
    );
    return true;
  });
}

/**
 * Reassigns every replica off the leaving brokers (Kafka adds the new replica, lets it catch up,
 * then drops the old one, moving leadership if the leaver led) and waits until no reassignment
 * runs, nothing is under-replicated and the leavers hold nothing. Idempotent: a re-run plans again
 * from the layout the cluster reports, which is empty once drained.
 */
async function drain(
  ctx: FlowContext,
  remaining: readonly BrokerPlacement[],
  all: readonly { id: number; zone: string }[],
  leaving: ReadonlySet<number>,
): Promise<number> {
  // Remaining brokers only as bootstrap: a leaver already stopped must not look like a lost broker.
  return withInstanceAdmins(ctx, ctx.op.instanceId!, remaining, async (admins) => {
    if (admins.length !== 1) return 0; // standalone brokers hold no replicas of each other
    const admin = admins[0]!;
    // Not waiting for in-sync replicas here: a leaving broker that is down keeps its partitions
    // under-replicated until the drain has replaced its replicas.
    await until(
      'earlier reassignments to finish',
      settledTimeout(ctx),
      async () => (await admin.reassignmentsInProgress()) === 0,
      500,
    );
    let plan: ReturnType<typeof planDrain>;
    const layout = await admin.partitionLayout();
    try {
      plan = planDrain(layout, all, leaving);
    } catch (e) {
      if (e instanceof DrainImpossible) throw new PermanentError('drain_impossible', e.message);
      throw e;
    }
    ctx.log.info({ partitions: plan.length, leaving: [...leaving] }, 'draining replicas off leaving brokers');
    // Rates on the brokers that stay: a leaving broker may be down, and the followers' throttle
    // on the replicas being added bounds the catch-up either way.
    await reassignThrottled(ctx, admin, remaining, layout, plan, () =>
      until(
        `replicas to leave brokers ${[...leaving].join(', ')}`,
        settledTimeout(ctx),
        async () =>
          (await replicasSettled(admin)) &&
          (await admin.partitionLayout()).every((p) => !p.replicas.some((r) => leaving.has(r))),
        500,
      ),
    );
    return plan.length;
  });
}

/**
 * Scale in: drain the leaving brokers, then one at a time (highest id first) stop it — a controlled
 * shutdown, which hands on any leadership left — remove it with its data and its placement, and
 * wait for the cluster to settle before the next. The brokers were chosen by the API
 * (planRemoval); the instance takes its new broker count at the end. Every step is recorded.
 */
async function shrinkInstance(ctx: FlowContext, input: ResizeInput): Promise<void> {
  const ins = await loadInstance(ctx);
  const leaving = new Set(input.remove);
  const all = ins.brokers.map((b) => ({ id: b.brokerId, zone: b.zone }));
  const remaining = ins.brokers.filter((b) => !leaving.has(b.brokerId));
  await ctx.steps.once('drained', async () => ({ partitions: await drain(ctx, remaining, all, leaving) }));
  const leavers = ins.brokers.filter((b) => leaving.has(b.brokerId)).sort((a, b) => b.brokerId - a.brokerId);
  for (const b of leavers) {
    await ctx.steps.once(`stopped-broker-${b.brokerId}`, async () => {
      // A topic created since the drain may have put replicas here: move them too first.
      await drain(ctx, remaining, all, leaving);
      await stopBroker(ctx, b);
      return true;
    });
    await ctx.steps.once(`removed-broker-${b.brokerId}`, async () => {
      await ctx.fleet.removeBroker(targetOf(b), brokerKey(ins.id, b.brokerId));
      // Its registration goes too, as Strimzi does after a scale-down: nothing can be placed on it.
      await withInstanceAdmins(ctx, ins.id, remaining, async (admins) => {
        if (admins.length === 1) await admins[0]!.unregisterBroker(b.brokerId);
      });
      await awaitRollingSettled(ctx, remaining);
      // Last, so that a worker killed while waiting finds the placement and runs this step again.
      // Its certificates go with it: a broker that reuses the id later gets its own.
      await ctx.prisma.$transaction([
        ctx.prisma.brokerCertificate.deleteMany({ where: { instanceId: ins.id, brokerId: b.brokerId } }),
        ctx.prisma.brokerPlacement.deleteMany({ where: { instanceId: ins.id, brokerId: b.brokerId } }),
      ]);
      return new Date().toISOString();
    });
  }
  await liveSpecStep(ctx);
  await markRunning(ctx, input.brokerCount);
}

export async function deleteInstance(ctx: FlowContext): Promise<void> {
  await ctx.steps.once('create-stopped', async () => {
    await waitForCancelledCreate(ctx);
    return true;
  });
  const ins = await loadInstance(ctx);
  await Promise.all(
    ins.brokers.map((b) =>
      ctx.steps.run(`remove-broker-${b.brokerId}`, async () => {
        await ctx.fleet.removeBroker(targetOf(b), brokerKey(ins.id, b.brokerId));
        await ctx.prisma.brokerPlacement.deleteMany({ where: { instanceId: ins.id, brokerId: b.brokerId } });
        return true;
      }),
    ),
  );
  await ctx.steps.run('forget-metadata', async () => {
    // The instance's own schema and role (its brokers are gone: no session is cut short).
    const url = ctx.settings.metadataDatabaseUrl;
    if (ins.metadataRole !== null && url !== undefined) await new MetadataSchemaProvisioner(url).drop(ins.id);
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
 * A delete that cancelled its instance's create (API: DELETE while creating) goes on only once the
 * create's worker has stopped (it records `stopped` before its next step, or when it picks up a
 * create cancelled before it started), so no broker starts after the delete removed it.
 */
async function waitForCancelledCreate(ctx: FlowContext): Promise<void> {
  const input = (ctx.op.input ?? {}) as { cancels?: unknown };
  if (typeof input.cancels !== 'string') return;
  const id = input.cancels;
  // The create's longest step is a broker coming up (readyTimeoutMs). A create whose job is gone
  // never records it: past the wait the delete goes on regardless.
  await until(
    'the cancelled create to stop',
    ctx.settings.readyTimeoutMs * 3,
    async () => {
      const op = await ctx.prisma.operation.findUnique({ where: { id }, select: { progress: true } });
      return (op?.progress as Record<string, unknown> | null)?.[STOPPED_STEP] === true;
    },
    250,
  ).catch((e: unknown) => ctx.log.warn({ err: e }, 'the cancelled create did not stop in time'));
}

/**
 * One broker at a time: wait until no partition is under-replicated, stop it (controlled shutdown),
 * start it, wait until it answers and its replicas are back in sync. Each broker's restart is
 * recorded, so a new worker continues with the next one.
 */
export async function restartInstance(ctx: FlowContext): Promise<void> {
  await rollBrokers(ctx);
  await markRunning(ctx);
}

/**
 * The rolling part of a restart: each broker in turn stopped and started with its spec as it is
 * now; `afterStart` runs once the broker answers, before the wait for in-sync replicas.
 */
export async function rollBrokers(
  ctx: FlowContext,
  afterStart: (ins: Instance, b: BrokerPlacement) => Promise<void> = async () => {},
): Promise<void> {
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
      const started = await startBroker(ctx, ins, b);
      await awaitBrokerReady(ctx, ins, started);
      await afterStart(ins, started);
      await awaitRollingSettled(ctx, brokers);
      return new Date().toISOString();
    });
  }
}
