/**
 * A transaction that cannot finish in time on a busy database is the backing service being
 * unavailable (503 with Retry-After, which automation retries), not an internal error: the error
 * Prisma raises against a real PostgreSQL is recognised as such.
 */
import { createPrismaClient } from '@fjord/db';
import { createTestDatabase } from '@fjord/test-support/database';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBackendUnavailable } from '../src/http/unavailable.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('a busy database', () => {
  it('an expired interactive transaction (P2028) counts as the backing service unavailable', async () => {
    const prisma = createPrismaClient(db.url);
    try {
      const err = await prisma
        .$transaction(
          async (tx) => {
            await new Promise((r) => setTimeout(r, 200));
            return tx.account.count();
          },
          { timeout: 50 },
        )
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((err as { code?: string }).code).toBe('P2028');
      expect(isBackendUnavailable(err)).toBe(true);
      // An ordinary failure is still not mistaken for one.
      expect(isBackendUnavailable(new Error('boom'))).toBe(false);
    } finally {
      await prisma.$disconnect();
    }
  });
});
