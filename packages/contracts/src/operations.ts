import { z } from 'zod';
import { AclBinding, ResetOffsets, SaslMechanism } from './access.js';
import { idSchema } from './ids.js';
import { AccessRoute } from './routes.js';

export const OPERATION_KINDS = [
  'instance.create',
  'instance.resize',
  'instance.delete',
  'instance.restart',
  // Adds, changes or removes access routes (listeners, TLS, allowlists).
  'instance.routes',
  'topic.create',
  'topic.update',
  'topic.delete',
  'user.create',
  'user.delete',
  'acl.create',
  'acl.delete',
  'group.resetOffsets',
  // Operator work on the fleet (no instance, account ''): moves every broker off a host.
  'host.drain',
  // Recorded (already finished) by the health reconciler when it repairs a broker; actor `system`.
  'broker.repair',
] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** Kinds that change the instance as a whole: they run alone on their instance. */
export const INSTANCE_WIDE_KINDS: ReadonlySet<OperationKind> = new Set([
  'instance.create',
  'instance.resize',
  'instance.delete',
  'instance.restart',
  'instance.routes',
]);

export const OperationStatus = z.enum(['pending', 'running', 'succeeded', 'failed']);

/**
 * The error code of an instance.create cancelled by a DELETE of its instance: set by the API while
 * the create is still pending or running, the worker stops the create at its next step (failed
 * with this code) and the delete removes what it had started.
 */
export const OPERATION_CANCELLED = 'cancelled';

export const Operation = z
  .object({
    id: idSchema('operation'),
    accountId: z.string(),
    instanceId: z.string().nullable(),
    kind: z.enum(OPERATION_KINDS),
    status: OperationStatus,
    target: z.string().describe('the resource the operation changes, e.g. instance/ins-…/topic/orders'),
    actor: z
      .string()
      .describe('who started it: account/…, subaccount/…, operator/…, system (repairs) or autoscaler'),
    progress: z.record(z.string(), z.unknown()).describe('steps done so far, per step'),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Operation' });
export type Operation = z.infer<typeof Operation>;

/** BullMQ job payload: the operation row holds the intent; the job only names it. */
export const OperationJob = z.object({ operationId: z.string() });
export type OperationJob = z.infer<typeof OperationJob>;

export const OPERATIONS_QUEUE = 'fjord-operations';

/**
 * How operation jobs are retried, whoever enqueues them. A transient failure (a broker still
 * starting, a controller moving) is retried for several minutes, with the delay growing to a cap
 * (`operationRetryDelayMs`, the worker's backoff strategy): a busy host makes an operation slow,
 * not failed. Permanent errors fail at once.
 */
export const OPERATION_JOB_OPTIONS = {
  attempts: 40,
  backoff: { type: 'operation' },
  removeOnComplete: true,
  removeOnFail: 1000,
} as const;

/** Delay before retry `attemptsMade` (1-based): 0.5 s doubling to 15 s, about 8 minutes over all attempts. */
export function operationRetryDelayMs(attemptsMade: number): number {
  return Math.min(500 * 2 ** (attemptsMade - 1), 15_000);
}

// What each operation kind carries in `input`: written by the API, parsed by the worker. They
// describe what the API accepted (its own schemas applied the product's rules), so they check
// shape, not policy again.
const TopicConfigValues = z.record(z.string(), z.string());

/** instance.resize: the target broker count and, when shrinking, the brokers chosen to leave. */
/** `instance.routes`: the routes the instance should have afterwards (the API writes them whole). */
export const RoutesInput = z.object({ accessRoutes: z.array(AccessRoute).min(1) });
export type RoutesInput = z.infer<typeof RoutesInput>;

export const ResizeInput = z.object({
  brokerCount: z.number().int().min(1),
  remove: z.array(z.number().int()).default([]),
});
export type ResizeInput = z.infer<typeof ResizeInput>;

export const TopicCreateInput = z.object({
  name: z.string(),
  partitions: z.number().int(),
  replicationFactor: z.number().int(),
  configs: TopicConfigValues,
});
export type TopicCreateInput = z.infer<typeof TopicCreateInput>;

export const TopicUpdateInput = z.object({
  name: z.string(),
  partitions: z.number().int().optional(),
  configs: TopicConfigValues.optional(),
  /** Overrides to remove (the broker default applies again). */
  removeConfigs: z.array(z.string()).optional(),
});
export type TopicUpdateInput = z.infer<typeof TopicUpdateInput>;

export const TopicDeleteInput = z.object({ name: z.string() });
export type TopicDeleteInput = z.infer<typeof TopicDeleteInput>;

export const UserCreateInput = z.object({
  name: z.string(),
  mechanism: SaslMechanism,
  /** Sealed with the admin secret; removed from the row once the brokers have the credential. */
  passwordSealed: z.string().optional(),
});
export type UserCreateInput = z.infer<typeof UserCreateInput>;

export const UserDeleteInput = z.object({ name: z.string(), mechanisms: z.array(SaslMechanism) });
export type UserDeleteInput = z.infer<typeof UserDeleteInput>;

/** acl.create / acl.delete carry the binding itself. */
export const AclInput = AclBinding;

export const GroupResetOffsetsInput = z.object({ groupId: z.string() }).and(ResetOffsets);
export type GroupResetOffsetsInput = z.infer<typeof GroupResetOffsetsInput>;
