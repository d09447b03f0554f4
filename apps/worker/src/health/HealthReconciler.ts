import { newId } from '@fjord/contracts';
import { appendAuditEvent, type BrokerPlacement, type Instance, type PrismaClient } from '@fjord/db';
import type { BrokerHandle, FleetDriver } from '@fjord/fleet';
import type { Logger } from 'pino';
import { brokerKey, type ClusterSettings } from '../brokerSpec.js';
import { listeningAt, specFor, targetOf } from '../flows/brokers.js';
import { agentKey, assessHealth } from './assessHealth.js';

/**
 * Compares what should run (instances and their placements in PostgreSQL) with what runs (the
 * zone agents' process lists) and repairs the difference: zone agents restart brokers that die;
 * this replaces a broker whose directory is gone from its host (same node id and zone; it
 * re-replicates from the in-sync replicas). Each repair is recorded as a finished operation by
 * `system` with an audit event, and every instance gets its health with the reason.
 * Only instances with no operation under way are looked at: flows own brokers while they run.
 */
export class HealthReconciler {
  /** Restart counts last seen per broker key, to record each restart once. */
  private readonly seenRestarts = new Map<string, number>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly fleet: FleetDriver,
    private readonly settings: ClusterSettings & {
      readonly adminSecret: string;
      readonly brokerCertificateLifetimeMs?: number;
    },
    private readonly log: Logger,
  ) {}

  async reconcile(): Promise<void> {
    const instances = await this.prisma.instance.findMany({
      where: { status: 'RUNNING', deletedAt: null },
      include: { brokers: true },
    });
    if (instances.length === 0) return;
    const targets = new Map(
      instances.flatMap((i) => i.brokers.map((b) => [agentKey(b.zone, b.hostId), targetOf(b)] as const)),
    );
    const handles = new Map<string, BrokerHandle>();
    const agentErrors = new Map<string, string>();
    await Promise.all(
      [...targets].map(async ([key, target]) => {
        try {
          for (const h of await this.fleet.listBrokers(target)) handles.set(h.key, h);
        } catch (err) {
          agentErrors.set(key, (err as Error).message.slice(0, 200));
        }
      }),
    );
    for (const ins of instances) {
      try {
        await this.reconcileInstance(ins, handles, agentErrors);
      } catch (err) {
        this.log.warn({ err: (err as Error).message, instanceId: ins.id }, 'health reconcile failed');
      }
    }
    // Forget brokers no agent runs any more (removed, or their instance deleted); with an agent
    // silent, its brokers are only out of sight, so their counts are kept.
    if (agentErrors.size === 0)
      for (const key of this.seenRestarts.keys()) if (!handles.has(key)) this.seenRestarts.delete(key);
  }

  private async reconcileInstance(
    ins: Instance & { brokers: BrokerPlacement[] },
    handles: ReadonlyMap<string, BrokerHandle>,
    agentErrors: ReadonlyMap<string, string>,
  ): Promise<void> {
    const busy = await this.prisma.operation.count({
      where: { instanceId: ins.id, instanceWide: true, status: { in: ['PENDING', 'RUNNING'] } },
    });
    if (busy > 0) return;
    const placed = ins.brokers.filter((b) => b.status === 'RUNNING');
    const observed = placed.map((b) => {
      const h = handles.get(brokerKey(ins.id, b.brokerId));
      return {
        placement: b,
        handle: h,
        view: {
          brokerId: b.brokerId,
          zone: b.zone,
          host: b.hostId,
          observed: h && {
            state: h.state,
            reachable: h.reachable,
            restarts: h.restarts,
            lastError: h.lastError,
          },
        },
      };
    });
    const assessment = assessHealth(
      observed.map((o) => o.view),
      agentErrors,
    );
    for (const o of observed) {
      const h = o.handle;
      if (!h) continue;
      const key = h.key;
      const before = this.seenRestarts.get(key);
      this.seenRestarts.set(key, h.restarts);
      // A count below the last one means the agent restarted (its counts start over).
      if (before !== undefined && h.restarts > before)
        await this.recordRepair(
          ins,
          o.placement,
          'restarted',
          `restarted by its zone agent (${h.restarts} since the agent started)`,
        );
      if (o.placement.observedState !== h.state || o.placement.restarts !== h.restarts)
        await this.prisma.brokerPlacement.update({
          where: { instanceId_brokerId: { instanceId: ins.id, brokerId: o.placement.brokerId } },
          data: { observedState: h.state, restarts: h.restarts },
        });
    }
    for (const brokerId of assessment.missing) {
      const b = placed.find((p) => p.brokerId === brokerId)!;
      await this.replace(ins, b);
    }
    if (ins.health !== assessment.health || ins.healthReason !== assessment.reason)
      this.log.info(
        { instanceId: ins.id, health: assessment.health, reason: assessment.reason },
        'instance health',
      );
    await this.prisma.instance.update({
      where: { id: ins.id },
      // Health is observed state, not a change of the instance: no version bump (ETags stay).
      data: { health: assessment.health, healthReason: assessment.reason, healthCheckedAt: new Date() },
    });
  }

  /** A broker whose directory is gone is started afresh on its host with the same node id. */
  private async replace(ins: Instance, b: BrokerPlacement): Promise<void> {
    this.log.warn(
      { instanceId: ins.id, brokerId: b.brokerId, zone: b.zone, host: b.hostId },
      'broker gone from its host; replacing it',
    );
    const h = await this.fleet.ensureBroker(
      targetOf(b),
      await specFor({ prisma: this.prisma, fleet: this.fleet, settings: this.settings }, ins, b),
    );
    await this.prisma.brokerPlacement.update({
      where: { instanceId_brokerId: { instanceId: ins.id, brokerId: b.brokerId } },
      data: { ...listeningAt(h), observedState: h.state, restarts: h.restarts },
    });
    await this.recordRepair(
      ins,
      b,
      'replaced',
      'its directory was gone from the host; started afresh with the same node id, re-replicating',
    );
  }

  private async recordRepair(
    ins: Instance,
    b: BrokerPlacement,
    action: 'restarted' | 'replaced',
    detail: string,
  ): Promise<void> {
    const target = `instance/${ins.id}/broker/${b.brokerId}`;
    const input = { brokerId: b.brokerId, zone: b.zone, action, detail };
    await this.prisma.$transaction(async (tx) => {
      await tx.operation.create({
        data: {
          id: newId('operation'),
          accountId: ins.accountId,
          instanceId: ins.id,
          kind: 'broker.repair',
          target,
          input,
          actor: 'system',
          status: 'SUCCEEDED',
          progress: { [action]: true },
        },
      });
      await appendAuditEvent(tx, {
        accountId: ins.accountId,
        actor: 'system',
        action: 'RepairBroker',
        resource: target,
        details: input,
      });
    });
  }
}
