import { type InstanceSpec, planPlacement, planRemoval } from '@fjord/contracts';
import {
  appendAuditEvent,
  type BrokerPlacement,
  type Instance,
  type Operation,
  type Prisma,
  type PrismaClient,
} from '@fjord/db';
import { zoneRoom } from './hostCapacity.js';
import { inTransactionWithOperation, type OperationEnqueuer, recordOperation } from './operations.js';
import { Refusal } from './Refusal.js';
import type { ReplicaFootprint } from './replicaFootprint.js';

export type InstanceWithBrokers = Instance & { brokers: BrokerPlacement[] };

/**
 * Decides where new brokers go (zone, then host) and records them as PLANNED placements, which
 * reserves host capacity at once (the worker starts them). Zone rows are locked so concurrent
 * creates (and host drains) cannot both take the last slot.
 */
export async function reservePlacement(
  tx: Prisma.TransactionClient,
  instanceId: string,
  existing: { brokerId: number; zone: string }[],
  brokerCount: number,
  zones: readonly string[],
): Promise<void> {
  await tx.$queryRaw`SELECT name FROM "Zone" WHERE name = ANY(${[...zones]}) ORDER BY name FOR UPDATE`;
  const plan = planPlacement(existing, brokerCount, await zoneRoom(tx, zones));
  if (!plan.ok) throw new Refusal('placement_unsatisfiable', plan.reason);
  await tx.brokerPlacement.createMany({
    data: plan.add.map((b) => ({
      instanceId,
      brokerId: b.brokerId,
      zone: b.zone,
      hostId: b.host,
      host: '',
      port: 0,
      status: 'PLANNED',
    })),
  });
}

/** How full the remaining brokers' disks may be after a scale-in. */
const DISK_FILL_LIMIT = 0.85;

const tooFewBrokers = (message: string) =>
  new Refusal('unprocessable', message, {
    errors: [{ path: '/brokerCount', message, code: 'too_small' }],
  });

/**
 * The brokers that leave when the instance shrinks to `brokerCount`, or a refusal naming
 * /brokerCount: the rest must still span every zone and hold each topic's replicas (internal ones
 * included) on distinct brokers, which with every zone spanned keeps them in distinct zones as far
 * as now; and the remaining disks must take all replicas below DISK_FILL_LIMIT.
 */
async function removalOrRefuse(
  footprint: ReplicaFootprint,
  row: InstanceWithBrokers,
  brokerCount: number,
): Promise<number[]> {
  const plan = planRemoval(
    row.brokers.map((b) => ({ brokerId: b.brokerId, zone: b.zone })),
    brokerCount,
    row.zones,
  );
  if (!plan.ok) throw tooFewBrokers(plan.reason);
  if (row.status === 'RUNNING') {
    const [widest, bytes] = await Promise.all([
      footprint.widestReplication(row.id, row.brokers),
      footprint.replicaBytes(row.id, row.brokers),
    ]);
    if (widest && widest.replicationFactor > brokerCount)
      throw tooFewBrokers(
        `${brokerCount} broker(s) cannot hold the ${widest.replicationFactor} replicas of topic ${widest.topic} in distinct zones; lower its replication factor or keep more brokers`,
      );
    // Replicas move, they do not shrink: the remaining disks must take all of them, with headroom.
    const room = brokerCount * row.diskGiB * 2 ** 30 * DISK_FILL_LIMIT;
    if (bytes > room)
      throw tooFewBrokers(
        `the data would not fit: ${(bytes / 2 ** 30).toFixed(1)} GiB of replicas, ${brokerCount} broker(s) × ${row.diskGiB} GiB holds ${(room / 2 ** 30).toFixed(1)} GiB at ${DISK_FILL_LIMIT * 100}% full`,
      );
  }
  return plan.remove.map((b) => b.brokerId);
}

export interface ResizeRequest {
  readonly brokerCount?: number | undefined;
  readonly spec?: Partial<InstanceSpec> | undefined;
}

type SizedInstance = Pick<Instance, 'brokerCount' | 'bandwidthMBps' | 'diskGiB' | 'partitionLimit'>;

/** The size a resize asks for: what it gives, the instance's current size for the rest. */
export function resizeTarget(row: SizedInstance, request: ResizeRequest) {
  return {
    brokerCount: request.brokerCount ?? row.brokerCount,
    spec: {
      bandwidthMBps: request.spec?.bandwidthMBps ?? row.bandwidthMBps,
      diskGiB: request.spec?.diskGiB ?? row.diskGiB,
      partitionLimit: request.spec?.partitionLimit ?? row.partitionLimit,
    },
  };
}

/** Whether a resize asks for anything but the size the instance has (and is already set to). */
export function resizeChanges(row: SizedInstance, request: ResizeRequest): boolean {
  const { brokerCount, spec } = resizeTarget(row, request);
  return (
    brokerCount !== row.brokerCount ||
    spec.bandwidthMBps !== row.bandwidthMBps ||
    spec.diskGiB !== row.diskGiB ||
    spec.partitionLimit !== row.partitionLimit
  );
}

export interface ResizeDeps {
  readonly prisma: PrismaClient;
  readonly queue: OperationEnqueuer;
  readonly footprint: ReplicaFootprint;
}

/**
 * Admits a resize of `row` (as read by the caller, whose version must still be current) and starts
 * its `instance.resize` operation, audited as `actor`; or throws a Refusal saying why not:
 * placement, replication, disk room, disks that would shrink, another operation, a changed or
 * not running instance. The REST API and the worker's autoscaler both resize through here.
 */
export async function admitResize(
  deps: ResizeDeps,
  row: InstanceWithBrokers,
  request: ResizeRequest,
  actor: string,
  /** More for the audit event (the autoscaler says why). */
  auditDetails: Prisma.InputJsonObject = {},
): Promise<{ instance: InstanceWithBrokers; operation: Operation }> {
  const { prisma } = deps;
  const { brokerCount, spec } = resizeTarget(row, request);
  const shrinking = brokerCount < row.brokerCount;
  const remove = shrinking ? await removalOrRefuse(deps.footprint, row, brokerCount) : [];
  if (spec.diskGiB < row.diskGiB)
    throw new Refusal('unprocessable', `disks cannot shrink (${row.diskGiB} → ${spec.diskGiB} GiB)`, {
      errors: [{ path: '/spec/diskGiB', message: `must be at least ${row.diskGiB}`, code: 'too_small' }],
    });
  const existing = row.brokers.map((b) => ({ brokerId: b.brokerId, zone: b.zone }));
  if (!shrinking) {
    const precheck = planPlacement(existing, brokerCount, await zoneRoom(prisma, row.zones));
    if (!precheck.ok) throw new Refusal('placement_unsatisfiable', precheck.reason);
  }
  return inTransactionWithOperation(prisma, deps.queue, async (tx) => {
    const operation = await recordOperation(tx, actor, {
      accountId: row.accountId,
      instanceId: row.id,
      kind: 'instance.resize',
      target: `instance/${row.id}`,
      input: { brokerCount, spec, remove },
    });
    const current = await tx.instance.findUniqueOrThrow({ where: { id: row.id } });
    if (current.status !== 'RUNNING')
      throw new Refusal('instance_not_ready', `instance is ${current.status.toLowerCase()}, not running`);
    const r = await tx.instance.updateMany({
      where: { id: row.id, version: row.version },
      data: {
        // A shrinking instance keeps its count until the worker has drained and removed the brokers.
        brokerCount: shrinking ? row.brokerCount : brokerCount,
        bandwidthMBps: spec.bandwidthMBps,
        diskGiB: spec.diskGiB,
        partitionLimit: spec.partitionLimit,
        status: 'RESIZING',
        statusReason: shrinking
          ? `resizing to ${brokerCount} brokers (draining ${remove.join(', ')})`
          : `resizing to ${brokerCount} brokers`,
        version: { increment: 1 },
      },
    });
    if (r.count === 0)
      throw new Refusal('precondition_failed', 'the instance changed meanwhile; fetch it again');
    if (!shrinking) await reservePlacement(tx, row.id, existing, brokerCount, row.zones);
    await appendAuditEvent(tx, {
      accountId: row.accountId,
      actor,
      action: 'ResizeInstance',
      resource: `instance/${row.id}`,
      details: {
        brokerCount,
        spec,
        operationId: operation.id,
        ...(shrinking ? { remove } : {}),
        ...auditDetails,
      },
    });
    return {
      operation,
      instance: await tx.instance.findUniqueOrThrow({ where: { id: row.id }, include: { brokers: true } }),
    };
  });
}
