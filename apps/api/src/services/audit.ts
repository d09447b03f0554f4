import type { Prisma } from '@fjord/db';
import { actorOf, type Principal } from '../auth/principal.js';

type Tx = Prisma.TransactionClient;

/** Every mutation writes one, in the same transaction as the change it records. */
export async function recordAudit(
  tx: Tx,
  principal: Principal,
  event: { accountId: string | null; action: string; resource: string; details?: Prisma.InputJsonObject },
): Promise<void> {
  await tx.auditEvent.create({
    data: {
      accountId: event.accountId,
      actor: actorOf(principal),
      action: event.action,
      resource: event.resource,
      details: event.details ?? {},
    },
  });
}

/** The audit row alone, for batch transactions (`prisma.$transaction([change, audit])`). */
export function auditEvent(
  principal: Principal,
  event: { accountId: string | null; action: string; resource: string; details?: Prisma.InputJsonObject },
): Prisma.AuditEventCreateArgs {
  return {
    data: {
      accountId: event.accountId,
      actor: actorOf(principal),
      action: event.action,
      resource: event.resource,
      details: event.details ?? {},
    },
  };
}
