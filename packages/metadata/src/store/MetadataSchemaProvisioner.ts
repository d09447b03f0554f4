import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The NOLOGIN group every instance's metadata role belongs to. pg_hba.conf names it
 * (`+fjord_metadata_brokers … scram-sha-256`, infra/ensure-postgres.sh) so brokers must present
 * their password even where the control plane's own role is trusted.
 */
export const METADATA_BROKERS_GROUP = 'fjord_metadata_brokers';

/** The schema and login role holding one instance's metadata (both have the same name). */
export interface MetadataStoreNames {
  readonly schema: string;
  readonly role: string;
}

/** What a broker of the instance connects with. */
export interface MetadataStoreCredential extends MetadataStoreNames {
  readonly connectionString: string;
}

// Instance ids are `ins-` and 16–32 base32 characters (@fjord/contracts ids); anything outside
// this shape is refused rather than escaped, so the identifier is predictable and under 63 bytes.
const INSTANCE_ID = /^[a-z][a-z0-9-]{0,49}$/;

/** `fjord_md_<id>` with hyphens as underscores: a plain lowercase identifier, never quoted away. */
export function metadataStoreNames(instanceId: string): MetadataStoreNames {
  if (!INSTANCE_ID.test(instanceId))
    throw new Error(
      `not an instance id (lowercase letters, digits and hyphens): ${JSON.stringify(instanceId)}`,
    );
  const name = `fjord_md_${instanceId.replace(/-/g, '_')}`;
  return { schema: name, role: name };
}

/**
 * PostgreSQL's SCRAM-SHA-256 verifier for `password` (RFC 5802/7677, the format of
 * pg_authid.rolpassword), so the password itself never reaches the server, its logs or
 * pg_stat_activity. Passwords are ASCII (SASLprep is then the identity).
 */
export function scramSha256Verifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  if (!/^[\x21-\x7e]+$/.test(password)) throw new Error('metadata store passwords are printable ASCII');
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

const q = pg.escapeIdentifier;
const lit = pg.escapeLiteral;

/**
 * The three tables of PostgresMetadataStore, copied from the public ones the migrations made
 * (columns, defaults, keys), so the store's unqualified SQL works unchanged through the role's
 * search_path and the shape is written in one place.
 */
const METADATA_TABLES = ['MetadataLog', 'MetadataSnapshot', 'ControllerLease'] as const;

function tableStatements(schema: string): string[] {
  return METADATA_TABLES.map(
    (t) => `CREATE TABLE IF NOT EXISTS ${q(schema)}.${q(t)} (LIKE public.${q(t)} INCLUDING ALL)`,
  );
}

/** Creates `role` (NOLOGIN) when missing; concurrent creators of the same role both succeed. */
function ensureRole(role: string, attributes: string): string {
  // The DO body is a dollar-quoted literal: the role name inside it goes through format(%I).
  return `DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${lit(role)}) THEN
      EXECUTE format('CREATE ROLE %I ${attributes}', ${lit(role)});
    END IF;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END $$`;
}

/**
 * Idempotent DDL giving one instance its schema and login role: the role may use its schema and
 * read/write its three tables, nothing else (no CREATE anywhere, nothing in public). Run by the
 * control plane's own role, which owns the schema and tables.
 */
export function provisionStatements(names: MetadataStoreNames, database: string, verifier: string): string[] {
  const role = q(names.role);
  const schema = q(names.schema);
  return [
    ensureRole(METADATA_BROKERS_GROUP, 'NOLOGIN'),
    ensureRole(names.role, 'NOLOGIN'),
    `ALTER ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${lit(verifier)}`,
    `GRANT ${q(METADATA_BROKERS_GROUP)} TO ${role}`,
    `ALTER ROLE ${role} IN DATABASE ${q(database)} SET search_path = ${schema}`,
    `CREATE SCHEMA IF NOT EXISTS ${schema}`,
    ...tableStatements(names.schema),
    `REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`,
    `GRANT USAGE ON SCHEMA ${schema} TO ${role}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ${METADATA_TABLES.map((t) => `${schema}.${q(t)}`).join(', ')} TO ${role}`,
    // PostgreSQL 15's default, restated for databases created by older versions (which let
    // every role create tables in public). Only when needed: concurrent GRANT/REVOKE on one
    // schema fail with "tuple concurrently updated".
    `DO $$ BEGIN
       IF has_schema_privilege('public', 'public', 'CREATE') THEN REVOKE CREATE ON SCHEMA public FROM PUBLIC; END IF;
     END $$`,
  ];
}

/** Removes an instance's schema (with its metadata) and role; its live sessions end first. */
export function dropStatements(names: MetadataStoreNames): string[] {
  return [
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ${lit(names.role)}`,
    `DROP SCHEMA IF EXISTS ${q(names.schema)} CASCADE`,
    `DO $$ BEGIN
       IF EXISTS (SELECT FROM pg_roles WHERE rolname = ${lit(names.role)}) THEN
         EXECUTE format('DROP OWNED BY %I', ${lit(names.role)});
         EXECUTE format('DROP ROLE %I', ${lit(names.role)});
       END IF;
     END $$`,
  ];
}

/** `adminUrl` with the instance role and password in place of the control plane's user. */
export function credentialUrl(adminUrl: string, role: string, password: string): string {
  const url = new URL(adminUrl);
  url.username = encodeURIComponent(role);
  url.password = encodeURIComponent(password);
  return url.toString();
}

/**
 * Gives each instance its own metadata store credential in the control plane's database: a
 * schema and a login role per instance (ADR 0013). Connects with the control plane's own role
 * (`adminUrl`, able to create roles and schemas).
 */
export class MetadataSchemaProvisioner {
  constructor(private readonly adminUrl: string) {}

  /**
   * Creates (or finds) the instance's schema and role and sets its password; running it again
   * with the same password changes nothing a connected broker would notice.
   */
  async provision(instanceId: string, password: string): Promise<MetadataStoreCredential> {
    const names = metadataStoreNames(instanceId);
    const verifier = scramSha256Verifier(password);
    await this.inTransaction(async (c) => {
      const db = (await c.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
      for (const sql of provisionStatements(names, db, verifier)) await c.query(sql);
    });
    return { ...names, connectionString: credentialUrl(this.adminUrl, names.role, password) };
  }

  /** Drops the instance's schema and role; nothing to drop is fine. */
  async drop(instanceId: string): Promise<void> {
    const names = metadataStoreNames(instanceId);
    await this.inTransaction(async (c) => {
      for (const sql of dropStatements(names)) await c.query(sql);
    });
  }

  private async inTransaction(work: (c: pg.Client) => Promise<void>): Promise<void> {
    const c = new pg.Client({ connectionString: this.adminUrl });
    await c.connect();
    try {
      await c.query('BEGIN');
      await work(c);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      await c.end().catch(() => {});
    }
  }
}
