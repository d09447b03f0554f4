import { createTestDatabase } from '@fjord/test-support/database';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseLost, LeaseStore } from '../src/LeaseStore.js';
import { seedConnector } from './seedConnector.js';

/** Leases in a real PostgreSQL: taken once, moved when they lapse, and progress fenced by epoch. */
let db: { url: string; drop(): Promise<void> };
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  await seedConnector(pool, 's3-sink', 2);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('LeaseStore', () => {
  it('hands each task to one worker, moves it when the lease lapses, and fences the old holder', async () => {
    const a = new LeaseStore(pool, 'worker-a', 300);
    const b = new LeaseStore(pool, 'worker-b', 60_000);
    const [lease] = await a.acquire(1);
    expect(lease).toEqual({ connectorId: 'con-1', task: 0, epoch: 1 });
    // B gets the other task, never A's while it is live.
    expect(await b.acquire(5)).toEqual([{ connectorId: 'con-1', task: 1, epoch: 1 }]);
    expect(await b.acquire(5)).toEqual([]);
    const progress = { topic: 't', partition: 0, offset: 10n, pending: { first: 10n, last: 19n } };
    await a.commit(lease!, progress);
    expect(await a.renew([lease!])).toEqual(new Set(['con-1/0']));

    await new Promise((r) => setTimeout(r, 400)); // A stalls past its lease
    const [taken] = await b.acquire(5);
    expect(taken).toEqual({ connectorId: 'con-1', task: 0, epoch: 2 });
    // The stalled holder can neither renew nor move progress any more.
    expect(await a.renew([lease!])).toEqual(new Set());
    await expect(a.commit(lease!, { ...progress, offset: 20n, pending: null })).rejects.toBeInstanceOf(
      LeaseLost,
    );
    // The new holder sees the range named before and finishes it.
    expect(await b.progress('con-1')).toEqual([{ ...progress, resetPending: false }]);
    await b.commit(taken!, { ...progress, offset: 20n, pending: null });
    expect((await b.progress('con-1'))[0]).toMatchObject({ offset: 20n, pending: null });

    await b.release(taken!);
    expect(await a.acquire(1)).toEqual([{ connectorId: 'con-1', task: 0, epoch: 3 }]);
  });

  it("keeps a reset pending until a holder's first commit of the partition; a stale holder cannot clear it", async () => {
    await pool.query(`UPDATE "ConnectorTask" SET "workerId" = NULL, "leaseExpiresAt" = NULL`);
    const a = new LeaseStore(pool, 'worker-ra', 300);
    const b = new LeaseStore(pool, 'worker-rb', 60_000);
    // What PUT …/offsets writes while the connector is stopped.
    await pool.query(
      `INSERT INTO "ConnectorOffset" ("connectorId", "topic", "partition", "offset", "resetPending", "updatedAt")
       VALUES ('con-1', 'r', 0, 3, true, now())`,
    );
    const reset = async () => (await b.progress('con-1')).find((p) => p.topic === 'r')!;
    const [first] = (await a.acquire(2)).filter((l) => l.task === 0);
    expect(first).toBeDefined();
    // A dies after starting from the reset, before any commit: the reset is still there for the next.
    await new Promise((r) => setTimeout(r, 400));
    const [next] = (await b.acquire(2)).filter((l) => l.task === 0);
    expect(next).toBeDefined();
    expect(await reset()).toMatchObject({ offset: 3n, resetPending: true });
    await expect(
      a.commit(first!, { topic: 'r', partition: 0, offset: 9n, pending: null }),
    ).rejects.toBeInstanceOf(LeaseLost);
    expect(await reset()).toMatchObject({ offset: 3n, resetPending: true });
    await b.commit(next!, { topic: 'r', partition: 0, offset: 10n, pending: null });
    expect(await reset()).toMatchObject({ offset: 10n, resetPending: false });
  });
});
