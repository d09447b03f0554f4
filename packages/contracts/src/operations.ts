import { z } from 'zod';
import { idSchema } from './ids.js';

export const OPERATION_KINDS = [
  'instance.create',
  'instance.resize',
  'instance.delete',
  'instance.restart',
  'topic.create',
  'topic.update',
  'topic.delete',
  'user.create',
  'user.delete',
  'acl.create',
  'acl.delete',
  'group.resetOffsets',
] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** Kinds that change the instance as a whole: they run alone on their instance. */
export const INSTANCE_WIDE_KINDS: ReadonlySet<OperationKind> = new Set([
  'instance.create',
  'instance.resize',
  'instance.delete',
  'instance.restart',
]);

export const OperationStatus = z.enum(['pending', 'running', 'succeeded', 'failed']);

export const Operation = z
  .object({
    id: idSchema('operation'),
    accountId: z.string(),
    instanceId: z.string().nullable(),
    kind: z.enum(OPERATION_KINDS),
    status: OperationStatus,
    target: z.string().describe('the resource the operation changes, e.g. instance/ins-…/topic/orders'),
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
