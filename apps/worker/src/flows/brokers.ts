import { AccessRoute, listenerOfRoute, usesTls } from '@fjord/contracts';
import type { BrokerPlacement, Instance, PrismaClient } from '@fjord/db';
import {
  type BrokerHandle,
  type BrokerSpec,
  type FleetDriver,
  instanceAdminCredential,
  instanceBrokerCredential,
  instanceMetadataPassword,
  type PlacementTarget,
} from '@fjord/fleet';
import { credentialUrl } from '@fjord/metadata';
import { brokerCertificate } from '@fjord/provisioning';
import { brokerKey, brokerSpecOf, type ClusterSettings, type ListenerCertificate } from '../brokerSpec.js';
import { adminOf, type FlowContext, portsOf, until, type WorkerSettings } from '../context.js';

/** An instance's routes as stored, with today's defaults for fields older rows lack (allowlists). */
export const routesOf = (ins: Pick<Instance, 'accessRoutes'>): AccessRoute[] =>
  AccessRoute.array().parse(ins.accessRoutes);

/** What building a broker's spec needs: settings, the database (certificates) and the fleet (addresses). */
export interface SpecDeps {
  readonly settings: Pick<
    WorkerSettings,
    'adminSecret' | 'metadataDatabaseUrl' | 'brokerCertificateLifetimeMs'
  >;
  readonly prisma: PrismaClient;
  readonly fleet: FleetDriver;
}

/**
 * The broker spec of a placement, with a certificate for each TLS route's listener naming the
 * address the broker is reached at (its host's broker address before it first ran).
 */
export async function specFor(deps: SpecDeps, ins: Instance, b: BrokerPlacement): Promise<BrokerSpec> {
  const routes = routesOf(ins);
  const certificates: Record<string, ListenerCertificate> = {};
  if (routes.some(usesTls)) {
    const host = b.host || (await deps.fleet.health(targetOf(b))).brokerHost;
    for (const r of routes.filter(usesTls)) {
      const listener = listenerOfRoute(r.type);
      const c = await brokerCertificate(deps.prisma, deps.settings.adminSecret, {
        instanceId: ins.id,
        brokerId: b.brokerId,
        listener,
        hosts: [host],
        ...(deps.settings.brokerCertificateLifetimeMs
          ? { lifetimeMs: deps.settings.brokerCertificateLifetimeMs }
          : {}),
      });
      certificates[listener] = { serial: c.serial, chainPem: c.certificatePem, keyPem: c.keyPem };
    }
  }
  return brokerSpecOf(
    { ...ins, accessRoutes: routes },
    b.brokerId,
    b.zone,
    {
      adminPassword: instanceAdminCredential(ins.id, deps.settings.adminSecret).password,
      broker: instanceBrokerCredential(ins.id, deps.settings.adminSecret),
    },
    metadataStoreOf(deps.settings, ins),
    certificates,
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
  const handle = await ctx.fleet.ensureBroker(targetOf(b), await specFor(ctx, ins, b));
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
