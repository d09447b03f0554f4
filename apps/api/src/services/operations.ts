import type { Operation, Prisma } from '@fjord/db';
import { type OperationRequest, recordOperation } from '@fjord/provisioning';
import { actorOf, type Principal } from '../auth/principal.js';

/** Records an operation started by the caller (see `recordOperation` for the conflict rules). */
export function createOperation(
  tx: Prisma.TransactionClient,
  principal: Principal,
  req: OperationRequest,
): Promise<Operation> {
  return recordOperation(tx, actorOf(principal), req);
}
