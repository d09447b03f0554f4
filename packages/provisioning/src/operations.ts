import { INSTANCE_WIDE_KINDS, newId, type OperationKind } from '@fjord/contracts';
import type { Operation, Prisma, PrismaClient } from '@fjord/db';
import { Refusal } from './Refusal.js';

type Tx = Prisma.TransactionClient;

export interface OperationRequest {
  readonly accountId: string;
  readonly instanceId: string;
  readonly kind: OperationKind;
  readonly target: string;
  readonly input: Prisma.InputJsonObject;
}

/** How an operation reaches the workers (BullMQ in the API and the worker alike). */
export interface OperationEnqueuer {
  enqueue(operationId: string): Promise<void>;
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

/**
 * Locks the instance row, refuses (`operation_in_progress`) if another operation is in the way,
 * records the new one as started by `actor` (as audit events name it).
 */
export async function recordOperation(tx: Tx, actor: string, req: OperationRequest): Promise<Operation> {
  await tx.$queryRaw`SELECT id FROM "Instance" WHERE id = ${req.instanceId} FOR UPDATE`;
  const active = await tx.operation.findMany({
    where: { instanceId: req.instanceId, status: { in: ['PENDING', 'RUNNING'] } },
    select: { id: true, instanceWide: true, target: true, kind: true },
  });
  const inTheWay = conflictingOperation(active, req.kind, req.target);
  if (inTheWay)
    throw new Refusal(
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
      actor,
      instanceWide: INSTANCE_WIDE_KINDS.has(req.kind),
    },
  });
}

/**
 * Runs `work` in a transaction and enqueues the operation it created before committing: if Redis is
 * down the whole change rolls back, and a job never names an operation that was not kept
 * (the worker retries a job whose operation is not yet visible, then drops it).
 */
export async function inTransactionWithOperation<T extends { operation: { id: string } }>(
  prisma: PrismaClient,
  queue: OperationEnqueuer,
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
