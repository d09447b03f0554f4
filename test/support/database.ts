import { randomUUID } from 'node:crypto';
import { migrate } from '@fjord/db';
import pg from 'pg';

const ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A freshly migrated database of its own, so engineers and CI can run tests side by side. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `fjord_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = `postgresql://postgres@127.0.0.1:5432/${name}`;
  await migrate(url);
  return { url, drop: () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}
