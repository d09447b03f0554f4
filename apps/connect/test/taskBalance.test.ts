import { createTestDatabase } from '@fjord/test-support/database';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectMetrics } from '../src/ConnectMetrics.js';
import { ConnectWorker } from '../src/ConnectWorker.js';
import { LeaseStore } from '../src/LeaseStore.js';
import { balanceStep, fairShare } from '../src/taskBalance.js';
import { seedConnector } from './seedConnector.js';

describe('a fair share of the tasks', () => {
  it('is the tasks over the live workers, rounded up, within the worker limit', () => {
    expect(fairShare(4, 1, 32)).toBe(4);
    expect(fairShare(4, 2, 32)).toBe(2);
    expect(fairShare(5, 2, 32)).toBe(3);
    expect(fairShare(1, 3, 32)).toBe(1);
    expect(fairShare(0, 3, 32)).toBe(0);
    expect(fairShare(10, 1, 4)).toBe(4);
    expect(fairShare(3, 0, 32)).toBe(3); // never divides by zero
  });

  it('gives back what is above the share, takes one a round below it, and is still at it', () => {
    expect(balanceStep(4, 2)).toEqual({ release: 2, acquire: 0 });
    expect(balanceStep(0, 2)).toEqual({ release: 0, acquire: 1 });
    expect(balanceStep(2, 2)).toEqual({ release: 0, acquire: 0 });
  });
});

/** Two in-process workers on a real PostgreSQL; the connector's type has no task code, so its tasks just fail and are held. */
let db: { url: string; drop(): Promise<void> };
let pool: pg.Pool;
const silent = pino({ level: 'silent' });

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 8 });
  await seedConnector(pool, 'no-such-type', 4);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

function worker(id: string): ConnectWorker {
  return new ConnectWorker(new LeaseStore(pool, id, 2_000), new ConnectMetrics(), silent, {
    adminSecret: 'x',
    allowedNetworks: [],
    heartbeatMs: 100,
    maxTasks: 32,
    metricsAddress: `127.0.0.1:${id === 'worker-a' ? 9101 : 9102}`,
    minRetryMs: 60_000,
    maxRetryMs: 60_000,
  });
}

/** Tasks held per worker, as the lease rows say. */
async function holders(): Promise<Record<string, number>> {
  const r = await pool.query<{ workerId: string; n: string }>(
    `SELECT "workerId", count(*) AS n FROM "ConnectorTask"
      WHERE "workerId" IS NOT NULL AND "leaseExpiresAt" > now() GROUP BY "workerId"`,
  );
  return Object.fromEntries(r.rows.map((x) => [x.workerId, Number(x.n)]));
}

async function until(want: Record<string, number>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const got = await holders();
    if (JSON.stringify(got, Object.keys(got).sort()) === JSON.stringify(want, Object.keys(want).sort()))
      return;
    if (Date.now() > deadline) expect(got).toEqual(want);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('connect workers', () => {
  it('move tasks to a worker that starts while another holds them all, and take them back when it stops', async () => {
    const a = worker('worker-a');
    a.start();
    await until({ 'worker-a': 4 });
    const b = worker('worker-b');
    b.start();
    await until({ 'worker-a': 2, 'worker-b': 2 });
    await new Promise((r) => setTimeout(r, 1_000)); // ten rounds: nothing moves once balanced
    expect(await holders()).toEqual({ 'worker-a': 2, 'worker-b': 2 });
    const live = await pool.query(
      `SELECT "id", "metricsAddress" FROM "ConnectWorkerHeartbeat" ORDER BY "id"`,
    );
    expect(live.rows).toEqual([
      { id: 'worker-a', metricsAddress: '127.0.0.1:9101' },
      { id: 'worker-b', metricsAddress: '127.0.0.1:9102' },
    ]);

    await b.stop();
    expect((await pool.query(`SELECT "id" FROM "ConnectWorkerHeartbeat"`)).rows).toEqual([
      { id: 'worker-a' },
    ]);
    await until({ 'worker-a': 4 });
    await a.stop();
    expect(await holders()).toEqual({});
  });
});
