import { type AuditOutcomeValue, appendAuditEvent, type Prisma, type PrismaClient } from '@fjord/db';
import { actorOf, type Principal } from '../auth/principal.js';

type Tx = Prisma.TransactionClient;

export interface AuditEventInput {
  readonly accountId: string | null;
  readonly action: string;
  readonly resource: string;
  readonly details?: Prisma.InputJsonObject;
}

/** Every mutation writes one, in the same transaction as the change it records. */
export async function recordAudit(tx: Tx, principal: Principal, event: AuditEventInput): Promise<void> {
  await appendAuditEvent(tx, { ...event, actor: actorOf(principal) });
}

/**
 * An event outside any change's transaction (a refused attempt, a token exchange): recorded in a
 * transaction of its own, since a refused request's transaction (if any) did not commit.
 */
export async function recordAttempt(
  prisma: PrismaClient,
  actor: string,
  outcome: AuditOutcomeValue,
  event: AuditEventInput,
): Promise<void> {
  await prisma.$transaction((tx) => appendAuditEvent(tx, { ...event, actor, outcome }));
}
