import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';

/** prisma/migrations at the repository root. */
export const MIGRATIONS_DIR = resolve(import.meta.dirname, '../../../prisma/migrations');

export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/fjord';

export interface MigrationResult {
  readonly applied: string[];
  readonly alreadyApplied: string[];
}

export class MigrationError extends Error {}

/**
 * Applies Prisma-layout SQL migrations (`<name>/migration.sql`) in name order, recording them
 * in Prisma's own `_prisma_migrations` table (checksum = sha256 of the file) so the Prisma CLI
 * agrees with what ran. Each migration runs in its own transaction; an advisory lock keeps
 * concurrent runners (two services starting at once) from racing. A migration that was edited
 * after being applied is refused, never silently re-run.
 */
export async function migrate(
  databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
  dir = MIGRATIONS_DIR,
): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(7262711)');
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
    const done = new Map<string, string>();
    const rows = await client.query<{ migration_name: string; checksum: string }>(
      'SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    for (const r of rows.rows) done.set(r.migration_name, r.checksum);

    const applied: string[] = [];
    const alreadyApplied: string[] = [];
    for (const name of listMigrations(dir)) {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const previous = done.get(name);
      if (previous !== undefined) {
        if (previous !== checksum)
          throw new MigrationError(`migration ${name} was modified after it was applied (checksum mismatch)`);
        alreadyApplied.push(name);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query(
          'INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ($1, $2, now(), $3, 1)',
          [randomUUID(), checksum, name],
        );
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK');
        throw new MigrationError(`migration ${name} failed: ${(e as Error).message}`);
      }
      applied.push(name);
    }
    return { applied, alreadyApplied };
  } finally {
    await client.end();
  }
}

export function listMigrations(dir = MIGRATIONS_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort();
}
