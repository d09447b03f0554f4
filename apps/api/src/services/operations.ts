import { INSTANCE_WIDE_KINDS, newId, type OperationKind } from '@fjord/contracts';
import type { Operation, Prisma, PrismaClient } from '@fjord/db';
import { actorOf, type Principal } from '../auth/principal.js';
import { ApiProblem } from '../problem.js';
import type { OperationQueue } from './operationQueue.js';

type Tx = Prisma.TransactionClient;

export interface OperationRequest {
  readonly accountId: string;
  readonly instanceId: string;
  readonly kind: OperationKind;
  readonly target: string;
  readonly input: Prisma.InputJsonObject;
}

/**
 * Whether a new operation may start next to the unfinished ones on its instance: instance-wide
 * operations run alone; other operations only conflict with one on the same target.
 */
export function conflictingOperation<T extends { id: string; instanceWide: boolean; target: string }>(
  active: readonly T[],
  kind: OperationKind,
  target: string,
): T | undefined {
  const wide = INSTANCE_WIDE_KINDS.has(kind);
  return active.find((o) => wide || o.instanceWide || o.target === target);
}

/** Locks the instance row, refuses with 409 if another operation is in the way, records the new one. */
export async function createOperation(
  tx: Tx,
  principal: Principal,
  req: OperationRequest,
): Promise<Operation> {
  await tx.$queryRaw`SELECT id FROM "Instance" WHERE id = ${req.instanceId} FOR UPDATE`;
  const active = await tx.operation.findMany({
    where: { instanceId: req.instanceId, status: { in: ['PENDING', 'RUNNING'] } },
    select: { id: true, instanceWide: true, target: true, kind: true },
  });
  const inTheWay = conflictingOperation(active, req.kind, req.target);
  if (inTheWay)
    throw new ApiProblem(
      'operation_in_progress',
      `operation ${inTheWay.id} (${inTheWay.kind}) is still running on this instance; retry when it finishes`,
      { operationId: inTheWay.id },
    );
  return tx.operation.create({
    data: {
      id: newId('operation'),
      accountId: req.accountId,
      instanceId: req.instanceId,
      kind: req.kind,
      target: req.target,
      input: req.input,
      actor: actorOf(principal),
      instanceWide: INSTANCE_WIDE_KINDS.has(req.kind),
    },
  });
}

/**
 * Runs `work` in a transaction and enqueues the operation it created before committing: if Redis is
 * down the whole change rolls back (503), and a job never names an operation that was not kept
 * (the worker retries a job whose operation is not yet visible, then drops it).
 */
export async function inTransactionWithOperation<T extends { operation: { id: string } }>(
  prisma: PrismaClient,
  queue: OperationQueue,
  work: (tx: Tx) => Promise<T>,
): Promise<T> {
  return prisma.$transaction(
    async (tx) => {
      const result = await work(tx);
      await queue.enqueue(result.operation.id);
      return result;
    },
    { maxWait: 3000, timeout: 10_000 },
  );
}
