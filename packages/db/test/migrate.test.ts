import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient } from '../src/client.js';
import { listMigrations, MIGRATIONS_DIR, migrate } from '../src/migrate.js';

const admin = 'postgresql://postgres@127.0.0.1:5432/postgres';
const dbName = `fjord_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const url = `postgresql://postgres@127.0.0.1:5432/${dbName}`;

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

describe('migrations on a real PostgreSQL', () => {
  beforeAll(() => adminQuery(`CREATE DATABASE "${dbName}"`));
  afterAll(() => adminQuery(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));

  it('apply on an empty database, then are a no-op', async () => {
    const first = await migrate(url);
    expect(first.applied).toEqual(listMigrations());
    const second = await migrate(url);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(listMigrations());
  });

  it('concurrent runners apply each migration exactly once', async () => {
    const results = await Promise.all([migrate(url), migrate(url)]);
    expect(results.flatMap((r) => r.applied)).toEqual([]);
  });

  it('the schema matches what the Prisma client expects', async () => {
    const prisma = createPrismaClient(url);
    try {
      const account = await prisma.account.create({ data: { id: 'acc-1', name: 'acme' } });
      await prisma.instance.create({
        data: {
          id: 'ins-1',
          accountId: account.id,
          name: 'orders',
          zones: ['az-1', 'az-2'],
          brokerCount: 3,
          bandwidthMBps: 40,
          diskGiB: 500,
          partitionLimit: 400,
          kafkaVersion: '3.8',
          brokers: {
            create: [
              {
                brokerId: 1,
                zone: 'az-1',
                host: '127.0.0.1',
                port: 9092,
                ports: { INTERNAL: 9092, PUBLIC: 9093 },
                dataDir: '/tmp/b1',
                status: 'RUNNING',
              },
            ],
          },
        },
      });
      const found = await prisma.instance.findUniqueOrThrow({
        where: { id: 'ins-1' },
        include: { brokers: true },
      });
      expect(found.defaultReplicationFactor).toBe(2);
      expect(found.status).toBe('CREATING');
      expect(found.zones).toEqual(['az-1', 'az-2']);
      expect(found.brokers).toHaveLength(1);
      await prisma.metadataSnapshot.create({
        data: { clusterId: 'c-1', offset: 41n, records: [{ type: 'Topic', name: 't', topicId: 'x' }] },
      });
      const snapshot = await prisma.metadataSnapshot.findUniqueOrThrow({
        where: { clusterId_offset: { clusterId: 'c-1', offset: 41n } },
      });
      expect(snapshot.records).toEqual([{ type: 'Topic', name: 't', topicId: 'x' }]);
      await prisma.account.create({ data: { id: 'acc-2', name: 'globex' } });
      await prisma.operatorKey.create({ data: { id: 'opk-1', name: 'ops', secretHash: 'h' } });
      await prisma.collaboratorGrant.create({
        data: {
          id: 'grt-1',
          ownerAccountId: 'acc-1',
          granteeAccountId: 'acc-2',
          actions: ['kafka:Describe*'],
          resources: ['instance/ins-1'],
        },
      });
      await prisma.zone.create({
        data: { name: 'az-1', hosts: { create: { id: 'h1', agentUrl: 'http://127.0.0.1:1', capacity: 4 } } },
      });
      await prisma.operation.create({
        data: {
          id: 'op-1',
          accountId: 'acc-1',
          instanceId: 'ins-1',
          kind: 'instance.create',
          target: 'instance/ins-1',
          input: { brokerCount: 3 },
          actor: 'acc-1',
          instanceWide: true,
        },
      });
      // A second unfinished instance-wide operation on the same instance is refused by the index.
      await expect(
        prisma.operation.create({
          data: {
            id: 'op-2',
            accountId: 'acc-1',
            instanceId: 'ins-1',
            kind: 'instance.resize',
            instanceWide: true,
          },
        }),
      ).rejects.toThrow();
      await prisma.operation.update({ where: { id: 'op-1' }, data: { status: 'SUCCEEDED' } });
      await prisma.operation.create({
        data: {
          id: 'op-2',
          accountId: 'acc-1',
          instanceId: 'ins-1',
          kind: 'instance.resize',
          instanceWide: true,
        },
      });
      await prisma.instance.update({
        where: { id: 'ins-1' },
        data: {
          accessRoutes: [{ type: 'public', securityProtocol: 'SASL_PLAINTEXT' }],
          status: 'RESTARTING',
        },
      });
      // Live names are unique per account; a deleted instance frees its name.
      const again = {
        accountId: 'acc-1',
        name: 'orders',
        zones: ['az-1'],
        brokerCount: 1,
        bandwidthMBps: 40,
        diskGiB: 10,
        partitionLimit: 10,
        kafkaVersion: '3.8',
      };
      await expect(prisma.instance.create({ data: { id: 'ins-2', ...again } })).rejects.toThrow();
      await prisma.instance.update({ where: { id: 'ins-1' }, data: { deletedAt: new Date() } });
      await prisma.instance.create({ data: { id: 'ins-2', ...again } });
      expect((await prisma.collaboratorGrant.findFirstOrThrow({ include: { owner: true } })).owner.name).toBe(
        'acme',
      );
      await prisma.account.delete({ where: { id: 'acc-1' } });
      expect(await prisma.collaboratorGrant.count()).toBe(0);
      expect(await prisma.instance.count()).toBe(0);
    } finally {
      await prisma.$disconnect();
    }
  });

  it("turns each zone's one agent into its default host, keeping placements on it", async () => {
    const before = mkdtempSync(join(tmpdir(), 'fjord-migrations-'));
    const oldDb = `${dbName}_hosts`;
    const oldUrl = `postgresql://postgres@127.0.0.1:5432/${oldDb}`;
    await adminQuery(`CREATE DATABASE "${oldDb}"`);
    try {
      for (const name of listMigrations().filter((m) => m < '20261206090000'))
        cpSync(join(MIGRATIONS_DIR, name), join(before, name), { recursive: true });
      await migrate(oldUrl, before);
      const c = new pg.Client({ connectionString: oldUrl });
      await c.connect();
      try {
        await c.query(
          `INSERT INTO "Zone" ("name", "capacity", "agentUrl") VALUES ('az-1', 6, 'http://10.0.0.1:7070')`,
        );
        await c.query(`INSERT INTO "Account" ("id", "name") VALUES ('acc-1', 'acme')`);
        await c.query(
          `INSERT INTO "Instance" ("id", "accountId", "name", "zones", "brokerCount", "bandwidthMBps", "diskGiB", "partitionLimit", "kafkaVersion", "updatedAt")
           VALUES ('ins-1', 'acc-1', 'orders', '{az-1}', 1, 40, 10, 10, '3.8', now())`,
        );
        await c.query(
          `INSERT INTO "BrokerPlacement" ("instanceId", "brokerId", "zone", "host", "port", "status") VALUES ('ins-1', 1, 'az-1', '10.0.0.1', 9092, 'RUNNING')`,
        );
      } finally {
        await c.end();
      }
      expect((await migrate(oldUrl)).applied).toContain('20261206090000_zone_hosts');
      const prisma = createPrismaClient(oldUrl);
      try {
        expect(await prisma.host.findMany()).toMatchObject([
          { zone: 'az-1', id: 'default', agentUrl: 'http://10.0.0.1:7070', capacity: 6, state: 'active' },
        ]);
        expect(await prisma.brokerPlacement.findMany()).toMatchObject([
          { brokerId: 1, zone: 'az-1', hostId: 'default' },
        ]);
      } finally {
        await prisma.$disconnect();
      }
    } finally {
      rmSync(before, { recursive: true, force: true });
      await adminQuery(`DROP DATABASE IF EXISTS "${oldDb}" WITH (FORCE)`);
    }
  });

  it('gives stored routes an allowlist and makes public routes TLS', async () => {
    const before = mkdtempSync(join(tmpdir(), 'fjord-migrations-'));
    const oldDb = `${dbName}_routes`;
    const oldUrl = `postgresql://postgres@127.0.0.1:5432/${oldDb}`;
    await adminQuery(`CREATE DATABASE "${oldDb}"`);
    try {
      for (const name of listMigrations().filter((m) => m < '20261207100000'))
        cpSync(join(MIGRATIONS_DIR, name), join(before, name), { recursive: true });
      await migrate(oldUrl, before);
      const c = new pg.Client({ connectionString: oldUrl });
      await c.connect();
      try {
        await c.query(`INSERT INTO "Account" ("id", "name") VALUES ('acc-1', 'acme')`);
        await c.query(
          `INSERT INTO "Instance" ("id", "accountId", "name", "zones", "brokerCount", "bandwidthMBps", "diskGiB", "partitionLimit", "kafkaVersion", "updatedAt", "accessRoutes")
           VALUES ('ins-1', 'acc-1', 'orders', '{az-1}', 1, 40, 10, 10, '3.8', now(),
                   '[{"type": "internal", "securityProtocol": "SASL_PLAINTEXT"}, {"type": "public", "securityProtocol": "SASL_PLAINTEXT"}]')`,
        );
      } finally {
        await c.end();
      }
      expect((await migrate(oldUrl)).applied).toContain('20261207100000_tls_routes');
      const prisma = createPrismaClient(oldUrl);
      try {
        expect((await prisma.instance.findUniqueOrThrow({ where: { id: 'ins-1' } })).accessRoutes).toEqual([
          { type: 'internal', securityProtocol: 'SASL_PLAINTEXT', allowedCidrs: ['0.0.0.0/0', '::/0'] },
          { type: 'public', securityProtocol: 'SASL_SSL', allowedCidrs: ['0.0.0.0/0', '::/0'] },
        ]);
      } finally {
        await prisma.$disconnect();
      }
    } finally {
      rmSync(before, { recursive: true, force: true });
      await adminQuery(`DROP DATABASE IF EXISTS "${oldDb}" WITH (FORCE)`);
    }
  });
});
