import { randomUUID } from 'node:crypto';
import { migrate } from '@fjord/db';
import pg from 'pg';

const ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

async function adminQuery(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/**
 * Drops the database and the instance metadata roles (ADR 0013) the worker made in it: roles are
 * the whole PostgreSQL cluster's, so they outlive the database otherwise (an instance a test does
 * not delete keeps its role). They are the roles whose search_path is set in this database.
 */
async function dropDatabase(name: string): Promise<void> {
  const roles = await adminQuery(
    `SELECT r.rolname FROM pg_db_role_setting s
       JOIN pg_roles r ON r.oid = s.setrole JOIN pg_database d ON d.oid = s.setdatabase
      WHERE d.datname = $1 AND r.rolname LIKE 'fjord\\_md\\_%'`,
    [name],
  );
  await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  for (const { rolname } of roles)
    await adminQuery(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(String(rolname))}`);
}

/** A freshly migrated database of its own, so engineers and CI can run tests side by side. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `fjord_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = `postgresql://postgres@127.0.0.1:5432/${name}`;
  await migrate(url);
  return { url, drop: () => dropDatabase(name) };
}
