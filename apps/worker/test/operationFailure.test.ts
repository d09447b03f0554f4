import { newId, verifyAuditChain } from '@fjord/contracts';
import { createPrismaClient, type PrismaClient } from '@fjord/db';
import { ZoneAgentClient } from '@fjord/fleet';
import { createTestDatabase } from '@fjord/test-support/database';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperationRunner } from '../src/OperationRunner.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let prisma: PrismaClient;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrismaClient(db.url);
});
afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

describe('a failed operation', () => {
  it("is recorded in its account's audit chain with outcome failed", async () => {
    const accountId = newId('account');
    await prisma.account.create({ data: { id: accountId, name: 'failing' } });
    const op = await prisma.operation.create({
      data: {
        id: newId('operation'),
        accountId,
        kind: 'connector.create',
        target: 'connector/x',
        actor: 'test',
      },
    });
    // No zone is ever asked: the kind has no flow, so the operation fails before any broker work.
    const fleet = new ZoneAgentClient(async () => 'http://127.0.0.1:1', 'unused');
    const runner = new OperationRunner(
      prisma,
      fleet,
      { adminSecret: 'unused', readyTimeoutMs: 1000 },
      pino({ level: 'silent' }),
    );
    await runner.run(op.id, true);

    expect((await prisma.operation.findUniqueOrThrow({ where: { id: op.id } })).status).toBe('FAILED');
    const events = await prisma.auditEvent.findMany({ where: { chain: accountId }, orderBy: { seq: 'asc' } });
    expect(events.map((e) => [e.seq, e.actor, e.action, e.resource, e.outcome])).toEqual([
      [1n, 'system', 'FinishOperation', 'connector/x', 'FAILED'],
    ]);
    const chain = events.map((e) => ({
      id: e.seq.toString(),
      accountId: e.accountId,
      actor: e.actor,
      action: e.action,
      resource: e.resource,
      outcome: e.outcome.toLowerCase(),
      at: e.at.toISOString(),
      details: e.details,
      prevHash: e.prevHash,
      hash: e.hash,
    }));
    expect(verifyAuditChain(chain)).toEqual({ ok: true, events: 1, legacy: 0 });
    // A second delivery of the job changes nothing.
    await runner.run(op.id, true);
    expect(await prisma.auditEvent.count({ where: { chain: accountId } })).toBe(1);
  });
});
