import { AUDIT_GENESIS_HASH, auditEventHash, PLATFORM_AUDIT_CHAIN } from '@fjord/contracts';
import type { Prisma } from './generated/prisma/client.js';

export type AuditOutcomeValue = 'SUCCEEDED' | 'DENIED' | 'FAILED';

export interface AuditRecord {
  readonly accountId: string | null;
  readonly actor: string;
  readonly action: string;
  readonly resource: string;
  readonly outcome?: AuditOutcomeValue;
  readonly details?: Prisma.InputJsonObject;
}

/**
 * Appends an event to its account's hash chain, inside the caller's transaction (it must be one:
 * the head's row lock, taken by the upsert, is what keeps two writers from both linking to the
 * same predecessor, and it is held until the caller commits).
 */
export async function appendAuditEvent(tx: Prisma.TransactionClient, e: AuditRecord): Promise<void> {
  const chain = e.accountId ?? PLATFORM_AUDIT_CHAIN;
  const [head] = await tx.$queryRaw<{ seq: bigint; prevHash: string | null }[]>`
    INSERT INTO "AuditChainHead" ("chain", "seq", "hash") VALUES (${chain}, 1, NULL)
    ON CONFLICT ("chain") DO UPDATE SET "seq" = "AuditChainHead"."seq" + 1
    RETURNING "seq", "hash" AS "prevHash"`;
  const seq = head!.seq;
  // A new head's hash (NULL) and a chain of only pre-chain events both start from genesis.
  const prevHash = head!.prevHash ?? AUDIT_GENESIS_HASH;
  const at = new Date();
  const outcome = e.outcome ?? 'SUCCEEDED';
  const details = e.details ?? {};
  const hash = auditEventHash({
    id: seq.toString(),
    accountId: e.accountId,
    actor: e.actor,
    action: e.action,
    resource: e.resource,
    outcome: outcome.toLowerCase(),
    at: at.toISOString(),
    details,
    prevHash,
  });
  await tx.auditEvent.create({
    data: {
      chain,
      seq,
      accountId: e.accountId,
      actor: e.actor,
      action: e.action,
      resource: e.resource,
      outcome,
      at,
      details,
      prevHash,
      hash,
    },
  });
  await tx.auditChainHead.update({ where: { chain }, data: { hash } });
}
