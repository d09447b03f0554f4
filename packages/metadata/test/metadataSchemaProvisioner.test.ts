import { randomBytes, randomUUID } from 'node:crypto';
import { migrate } from '@fjord/db';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  credentialUrl,
  type MetadataRecord,
  MetadataSchemaProvisioner,
  metadataStoreNames,
  PostgresMetadataStore,
} from '../src/index.js';

// A database of its own, migrated like the control plane's (its public tables are the ones a
// broker must not reach). Needs infra/ensure-postgres.sh's scram line for the metadata roles.
const db = `fjord_mdiso_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
const adminUrl = `postgresql://postgres@127.0.0.1:5432/${db}`;
const admin = async (sql: string, params: unknown[] = []) => {
  const c = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
};
const instanceId = () => `ins-${randomBytes(10).toString('hex')}`;
const password = () => randomBytes(24).toString('base64url');
const provisioner = new MetadataSchemaProvisioner(adminUrl);
const clients: pg.Client[] = [];
const stores: PostgresMetadataStore[] = [];

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  clients.push(c);
  await c.connect();
  return c;
}

const a = { id: instanceId(), password: password() };
const b = { id: instanceId(), password: password() };

beforeAll(async () => {
  await admin(`CREATE DATABASE "${db}"`);
  await migrate(adminUrl);
});
afterAll(async () => {
  for (const s of stores) await s.close().catch(() => {});
  for (const c of clients) await c.end().catch(() => {});
  for (const i of [a, b]) await provisioner.drop(i.id).catch(() => {});
  await admin(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
});

describe('metadata schema provisioner', () => {
  it('names schema and role after the instance id and refuses anything else', () => {
    expect(metadataStoreNames('ins-01jexample0000abcd')).toEqual({
      schema: 'fjord_md_ins_01jexample0000abcd',
      role: 'fjord_md_ins_01jexample0000abcd',
    });
    for (const bad of ['', 'ins"; DROP TABLE "Instance', 'INS-ABC', 'ins abc', `ins-${'x'.repeat(60)}`])
      expect(() => metadataStoreNames(bad)).toThrow(/not an instance id/);
  });

  it("confines one instance's credential to its own metadata", async () => {
    const credA = await provisioner.provision(a.id, a.password);
    const credB = await provisioner.provision(b.id, b.password);
    expect(credA.connectionString).toContain(`${credA.role}:${a.password}@127.0.0.1:5432/${db}`);

    // B has metadata of its own, written with B's credential.
    const storeB = new PostgresMetadataStore('cluster-b', 1, credB.connectionString);
    stores.push(storeB);
    await storeB.acquireLease(60_000);
    await storeB.append([{ type: 'Topic', name: 'b-secret', topicId: randomUUID() } as MetadataRecord]);

    const ca = await connect(credA.connectionString);
    expect((await ca.query('SELECT current_user AS u')).rows[0].u).toBe(credA.role);
    // Its own tables, unqualified (the role's search_path), as PostgresMetadataStore uses them.
    expect((await ca.query('SELECT count(*)::int AS n FROM "MetadataLog"')).rows[0].n).toBe(0);

    const refused = async (sql: string) => {
      await expect(ca.query(sql)).rejects.toThrow(/permission denied/);
    };
    for (const table of ['MetadataLog', 'MetadataSnapshot', 'ControllerLease'])
      await refused(`SELECT * FROM "${credB.schema}"."${table}"`);
    await refused(`INSERT INTO "${credB.schema}"."MetadataLog" VALUES ('x', 0, '{}')`);
    // Control-plane tables, and the shared metadata tables clusters of the test harnesses use.
    for (const table of ['Instance', 'ApiKey', 'Account', 'AuditEvent', 'Operation', 'MetadataLog'])
      await refused(`SELECT * FROM public."${table}"`);
    await refused('CREATE TABLE public.stash (x int)');
    await refused(`CREATE TABLE "${credA.schema}".stash (x int)`);
    await refused('CREATE SCHEMA stash');
    await refused(`ALTER ROLE "${credB.role}" PASSWORD 'taken'`);
    await expect(ca.query(`SET ROLE "${credB.role}"`)).rejects.toThrow(/permission denied/);
    // The group it belongs to carries no privileges of its own.
    await ca.query('SET ROLE fjord_metadata_brokers');
    await refused(`SELECT * FROM "${credB.schema}"."MetadataLog"`);
    await refused('SELECT * FROM public."Instance"');
    await ca.query('RESET ROLE');
  });

  it('refuses a wrong password and the other instance’s password', async () => {
    const { role } = metadataStoreNames(a.id);
    await expect(connect(credentialUrl(adminUrl, role, 'wrong-password'))).rejects.toThrow(
      /password authentication failed/,
    );
    await expect(connect(credentialUrl(adminUrl, role, b.password))).rejects.toThrow(
      /password authentication failed/,
    );
  });

  it('runs a metadata store on the credential (lease, append, snapshot, LISTEN/NOTIFY)', async () => {
    const cred = await provisioner.provision(a.id, a.password);
    const writer = new PostgresMetadataStore('cluster-a', 1, cred.connectionString);
    const reader = new PostgresMetadataStore('cluster-a', 2, cred.connectionString);
    stores.push(writer, reader);
    let woken = 0;
    await reader.listen(() => woken++);
    const afterListen = woken;
    await writer.acquireLease(60_000);
    await writer.append([{ type: 'Topic', name: 't1', topicId: randomUUID() } as MetadataRecord]);
    await writer.writeSnapshot({ offset: 0, records: [] }, 0);
    const deadline = Date.now() + 60_000;
    while (woken === afterListen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(woken).toBeGreaterThan(afterListen);
    expect((await reader.readAfter(-1)).map((e) => e.offset)).toEqual([0]);
    expect(await reader.latestSnapshot()).toEqual({ offset: 0, records: [] });
    // Nothing reached the shared public tables.
    const c = await connect(adminUrl);
    expect((await c.query('SELECT count(*)::int AS n FROM public."MetadataLog"')).rows[0].n).toBe(0);
  });

  it('provisions again without changing the password or the data', async () => {
    const cred = await provisioner.provision(a.id, a.password);
    const before = (
      await (await connect(cred.connectionString)).query('SELECT count(*)::int AS n FROM "MetadataLog"')
    ).rows[0].n;
    expect(before).toBe(1);
    const again = await provisioner.provision(a.id, a.password);
    expect(again).toEqual(cred);
    const c = await connect(again.connectionString);
    expect((await c.query('SELECT count(*)::int AS n FROM "MetadataLog"')).rows[0].n).toBe(1);
    // Concurrent provisioning of new instances (creates running side by side) does not collide.
    const more = [instanceId(), instanceId(), instanceId()];
    try {
      await Promise.all(more.map((id) => provisioner.provision(id, password())));
    } finally {
      for (const id of more) await provisioner.drop(id);
    }
  });

  it('drops the schema and the role (and ends their sessions); dropping again is fine', async () => {
    const cred = await provisioner.provision(b.id, b.password);
    const session = await connect(cred.connectionString);
    session.on('error', () => {});
    await provisioner.drop(b.id);
    await provisioner.drop(b.id);
    const left = await admin(
      `SELECT (SELECT count(*)::int FROM pg_roles WHERE rolname = $1) AS roles,
              (SELECT count(*)::int FROM pg_stat_activity WHERE usename = $1) AS sessions`,
      [cred.role],
    );
    expect(left[0]).toEqual({ roles: 0, sessions: 0 });
    const c = await connect(adminUrl);
    expect(
      (await c.query('SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1', [cred.schema])).rows[0]
        .n,
    ).toBe(0);
    await expect(connect(cred.connectionString)).rejects.toThrow(
      /does not exist|password authentication failed/,
    );
  });
});
