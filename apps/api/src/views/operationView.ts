import type { Operation } from '@fjord/contracts';
import type { Operation as OperationRow } from '@fjord/db';

export function operationView(o: OperationRow): Operation {
  return {
    id: o.id,
    accountId: o.accountId,
    instanceId: o.instanceId,
    kind: o.kind as Operation['kind'],
    status: o.status.toLowerCase() as Operation['status'],
    target: o.target,
    actor: o.actor,
    progress: (o.progress ?? {}) as Record<string, unknown>,
    error: (o.error as Operation['error']) ?? null,
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
  };
}
