import { OPERATION_CANCELLED, type OperationKind } from '@fjord/contracts';
import { appendAuditEvent, type Operation, type Prisma, type PrismaClient } from '@fjord/db';
import type { FleetDriver } from '@fjord/fleet';
import type { Logger } from 'pino';
import { type FlowContext, PermanentError, type WorkerSettings } from './context.js';
import { createAcl, createUser, deleteAcl, deleteUser, resetGroupOffsets } from './flows/accessFlows.js';
import { drainHost } from './flows/hostFlows.js';
import { createInstance, deleteInstance, resizeInstance, restartInstance } from './flows/instanceFlows.js';
import { updateRoutes } from './flows/routeFlows.js';
import { createTopic, deleteTopic, updateTopic } from './flows/topicFlows.js';
import { cancelledBy, isCancelled, recordStopped, Steps } from './steps.js';

type Flow = (ctx: FlowContext) => Promise<void>;

const FLOWS: Partial<Record<OperationKind, Flow>> = {
  'instance.create': createInstance,
  'instance.resize': resizeInstance,
  'instance.delete': deleteInstance,
  'instance.restart': restartInstance,
  'instance.routes': updateRoutes,
  'topic.create': createTopic,
  'topic.update': updateTopic,
  'topic.delete': deleteTopic,
  'user.create': createUser,
  'user.delete': deleteUser,
  'acl.create': createAcl,
  'acl.delete': deleteAcl,
  'group.resetOffsets': resetGroupOffsets,
  'host.drain': drainHost,
};

export class OperationNotVisible extends Error {}

/** Told of every operation that reaches its end (for metrics). */
export interface OperationObserver {
  operationFinished(kind: string, outcome: 'succeeded' | 'failed', secondsSinceCreated: number): void;
}

/**
 * Carries out one operation: PENDING → RUNNING, the kind's flow (resumable through Steps), then
 * exactly one transition to SUCCEEDED or FAILED. A duplicate job of a finished operation is a no-op.
 */
export class OperationRunner {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly fleet: FleetDriver,
    private readonly settings: WorkerSettings,
    private readonly log: Logger,
    private readonly observer?: OperationObserver,
  ) {}

  /** `finalAttempt`: a transient failure now fails the operation instead of being retried. */
  async run(operationId: string, finalAttempt: boolean): Promise<void> {
    const op = await this.prisma.operation.findUnique({ where: { id: operationId } });
    if (!op) {
      // The API enqueues before its transaction commits; a job may arrive first. Retry, then drop.
      if (finalAttempt) return;
      throw new OperationNotVisible(`operation ${operationId} is not visible (yet)`);
    }
    // A create cancelled before (or while) a worker ran it: say that nothing runs it any more.
    if (op.status === 'FAILED' && cancelledBy(op.error)) return recordStopped(this.prisma, op.id);
    if (op.status === 'SUCCEEDED' || op.status === 'FAILED') return;
    if (op.status === 'PENDING')
      await this.prisma.operation.updateMany({
        where: { id: op.id, status: 'PENDING' },
        data: { status: 'RUNNING' },
      });
    const flow = FLOWS[op.kind as OperationKind];
    const log = this.log.child({ operationId: op.id, kind: op.kind, instanceId: op.instanceId });
    if (!flow) return this.fail(op, 'unsupported', `no worker flow for ${op.kind}`);
    const steps = new Steps(this.prisma, op.id, {
      ...((op.progress ?? {}) as Record<string, Prisma.InputJsonValue>),
    });
    try {
      log.info('running');
      await flow({ prisma: this.prisma, fleet: this.fleet, steps, op, log, settings: this.settings });
      const done = await this.prisma.operation.updateMany({
        where: { id: op.id, status: 'RUNNING' },
        data: { status: 'SUCCEEDED' },
      });
      log.info({ transitioned: done.count === 1 }, 'succeeded');
      if (done.count === 1)
        this.observer?.operationFinished(op.kind, 'succeeded', (Date.now() - op.createdAt.getTime()) / 1000);
      // Cancelled after its last step: it has stopped all the same.
      else if (await isCancelled(this.prisma, op.id)) await recordStopped(this.prisma, op.id);
    } catch (e) {
      if (e instanceof PermanentError && e.code === OPERATION_CANCELLED) {
        log.info('cancelled: stopped between steps');
        return recordStopped(this.prisma, op.id);
      }
      const permanent = e instanceof PermanentError;
      log.warn({ err: e, permanent, finalAttempt }, 'step failed');
      if (permanent || finalAttempt)
        return this.fail(op, permanent ? (e as PermanentError).code : 'failed', (e as Error).message);
      throw e;
    }
  }

  /** Marks the operation failed and records that in its account's audit trail (outcome failed). */
  private async fail(
    op: Pick<Operation, 'id' | 'accountId' | 'instanceId' | 'kind' | 'target' | 'createdAt'>,
    code: string,
    message: string,
  ): Promise<void> {
    const { id, instanceId, kind } = op;
    const failed = await this.prisma.$transaction(async (tx) => {
      const r = await tx.operation.updateMany({
        where: { id, status: { in: ['PENDING', 'RUNNING'] } },
        data: { status: 'FAILED', error: { code, message: message.slice(0, 2000) } },
      });
      if (r.count !== 1) return false;
      if (instanceId && kind.startsWith('instance.') && kind !== 'instance.delete')
        await tx.instance.update({
          where: { id: instanceId },
          data: {
            status: 'FAILED',
            statusReason: `${kind} failed: ${message.slice(0, 500)}`,
            version: { increment: 1 },
          },
        });
      await appendAuditEvent(tx, {
        accountId: op.accountId,
        actor: 'system',
        action: 'FinishOperation',
        resource: op.target,
        outcome: 'FAILED',
        details: { operationId: id, kind, code, message: message.slice(0, 500) },
      });
      return true;
    });
    if (failed)
      this.observer?.operationFinished(kind, 'failed', (Date.now() - op.createdAt.getTime()) / 1000);
  }
}
