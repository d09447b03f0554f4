import type { AccessRoute } from '@fjord/contracts';
import type { BrokerPlacement, Instance } from '@fjord/db';
import {
  type BrokerHandle,
  instanceAdminCredential,
  instanceMetadataPassword,
  type PlacementTarget,
} from '@fjord/fleet';
import { credentialUrl } from '@fjord/metadata';
import { brokerKey, brokerSpecOf, type ClusterSettings } from '../brokerSpec.js';
import { adminOf, type FlowContext, portsOf, until, type WorkerSettings } from '../context.js';

/** The broker spec of a placement. */
export function specFor(
  settings: Pick<WorkerSettings, 'adminSecret' | 'metadataDatabaseUrl'>,
  ins: Instance,
  b: BrokerPlacement,
) {
  return brokerSpecOf(
    { ...ins, accessRoutes: ins.accessRoutes as AccessRoute[] },
    b.brokerId,
    b.zone,
    instanceAdminCredential(ins.id, settings.adminSecret).password,
    metadataStoreOf(settings, ins),
  );
}

/**
 * Where an instance's brokers keep their metadata log: with the instance's own role and password,
 * confined to its schema (ADR 0013); instances created before that keep the shared tables.
 */
export function metadataStoreOf(
  settings: Pick<WorkerSettings, 'adminSecret' | 'metadataDatabaseUrl'>,
  ins: Pick<Instance, 'id' | 'metadataRole'>,
): ClusterSettings {
  const url = settings.metadataDatabaseUrl;
  if (url === undefined) return {};
  if (ins.metadataRole === null) return { metadataDatabaseUrl: url };
  const password = instanceMetadataPassword(ins.id, settings.adminSecret);
  return { metadataDatabaseUrl: credentialUrl(url, ins.metadataRole, password) };
}

/** The zone and host a placement runs on, as the fleet driver addresses it. */
export const targetOf = (b: Pick<BrokerPlacement, 'zone' | 'hostId'>): PlacementTarget => ({
  zone: b.zone,
  host: b.hostId,
});

/** Where a started broker listens, as its placement records it. */
export function listeningAt(handle: BrokerHandle) {
  return {
    host: handle.host,
    port: handle.ports.INTERNAL ?? 0,
    ports: handle.ports,
    metricsPort: handle.metricsPort || null,
    dataDir: handle.dataDir,
  };
}

/** Starts (or finds running) the broker of a placement and records where it listens. */
export async function startBroker(
  ctx: FlowContext,
  ins: Instance,
  b: BrokerPlacement,
): Promise<BrokerPlacement> {
  const handle = await ctx.fleet.ensureBroker(targetOf(b), specFor(ctx.settings, ins, b));
  return ctx.prisma.brokerPlacement.update({
    where: { instanceId_brokerId: { instanceId: ins.id, brokerId: b.brokerId } },
    data: { ...listeningAt(handle), status: b.status === 'RUNNING' ? 'RUNNING' : 'STARTING' },
  });
}

/** Waits until the broker answers the admin protocol (and, clustered, has registered), then marks it running. */
export async function awaitBrokerReady(ctx: FlowContext, ins: Instance, b: BrokerPlacement): Promise<void> {
  const admin = adminOf(ctx, ins.id, [b]);
  try {
    await until(
      `broker ${b.brokerId} answering on ${b.host}:${portsOf(b).CONTROL}`,
      ctx.settings.readyTimeoutMs,
      async () => (await admin.clusterBrokerIds()).includes(b.brokerId),
    );
  } finally {
    await admin.close();
  }
  await ctx.prisma.brokerPlacement.update({
    where: { instanceId_brokerId: { instanceId: ins.id, brokerId: b.brokerId } },
    data: { status: 'RUNNING' },
  });
}

export async function stopBroker(ctx: FlowContext, b: BrokerPlacement): Promise<void> {
  await ctx.fleet.stopBroker(targetOf(b), brokerKey(b.instanceId, b.brokerId));
}

export async function loadInstance(ctx: FlowContext): Promise<Instance & { brokers: BrokerPlacement[] }> {
  return ctx.prisma.instance.findUniqueOrThrow({
    where: { id: ctx.op.instanceId! },
    include: { brokers: true },
  });
}
