import { appendAuditEvent, type Prisma, type PrismaClient } from '@fjord/db';
import {
  type AutoscaleObservation,
  admitResize,
  planAutoscaling,
  Refusal,
  type ResizeDeps,
} from '@fjord/provisioning';
import type { Logger } from 'pino';

/** The actor of the autoscaler's operations and audit events. */
export const AUTOSCALER_ACTOR = 'autoscaler';

/** Refusals that are races with another change, not a verdict on the resize: the next pass decides again. */
const TRANSIENT: ReadonlySet<string> = new Set([
  'operation_in_progress',
  'precondition_failed',
  'instance_not_ready',
]);

/**
 * Each pass: for every enabled policy of a running instance, reads utilisation (Prometheus, through
 * the metric catalogue), lets the pure planner decide, and starts the resize through the same
 * admission checks as the REST API, as actor `autoscaler`. A refused resize is kept on the policy
 * (the recommendation shows it) and not retried before the cooldown has passed.
 */
export class Autoscaler {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly observation: AutoscaleObservation,
    private readonly resize: ResizeDeps,
    private readonly log: Logger,
  ) {}

  async runOnce(now = () => Date.now()): Promise<void> {
    const policies = await this.prisma.autoscalingPolicy.findMany({
      where: { enabled: true, instance: { deletedAt: null, status: 'RUNNING' } },
      include: { instance: { include: { brokers: true } } },
    });
    for (const { instance, ...policy } of policies) {
      try {
        const plan = planAutoscaling(await this.observation.inputFor(instance, policy, now() / 1000));
        if (plan.action === 'none') continue;
        const request = {
          ...(plan.brokerCount !== instance.brokerCount ? { brokerCount: plan.brokerCount } : {}),
          ...(plan.bandwidthMBps !== instance.bandwidthMBps
            ? { spec: { bandwidthMBps: plan.bandwidthMBps } }
            : {}),
        };
        try {
          const { operation } = await admitResize(this.resize, instance, request, AUTOSCALER_ACTOR, {
            reason: plan.reason,
          });
          this.log.info(
            { instanceId: instance.id, operationId: operation.id, action: plan.action, reason: plan.reason },
            'autoscaler resizing',
          );
          if (policy.lastRefusal)
            await this.prisma.autoscalingPolicy.update({
              where: { instanceId: instance.id },
              data: { lastRefusal: null, lastRefusedAt: null },
            });
        } catch (err) {
          if (!(err instanceof Refusal) || TRANSIENT.has(err.code)) throw err;
          await this.recordRefusal(instance.id, instance.accountId, request, err.message, new Date(now()));
        }
      } catch (err) {
        this.log.warn({ err: (err as Error).message, instanceId: instance.id }, 'autoscaling pass failed');
      }
    }
  }

  private async recordRefusal(
    instanceId: string,
    accountId: string,
    request: Prisma.InputJsonObject,
    reason: string,
    at: Date,
  ): Promise<void> {
    this.log.warn({ instanceId, reason }, 'autoscaler resize refused; waiting for the cooldown');
    await this.prisma.$transaction(async (tx) => {
      // No version bump: the refusal is the autoscaler's observation, not a change of the policy.
      await tx.autoscalingPolicy.update({
        where: { instanceId },
        data: { lastRefusal: reason.slice(0, 500), lastRefusedAt: at },
      });
      await appendAuditEvent(tx, {
        accountId,
        actor: AUTOSCALER_ACTOR,
        action: 'AutoscaleRefused',
        resource: `instance/${instanceId}`,
        outcome: 'FAILED',
        details: { ...request, reason },
      });
    });
  }
}
