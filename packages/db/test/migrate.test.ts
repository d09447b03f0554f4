import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient } from '../src/client.js';
import { listMigrations, migrate } from '../src/migrate.js';

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
            create: [{ brokerId: 1, zone: 'az-1', host: '127.0.0.1', port: 9092, status: 'RUNNING' }],
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
      await prisma.account.delete({ where: { id: 'acc-1' } });
      expect(await prisma.instance.count()).toBe(0);
    } finally {
      await prisma.$disconnect();
    }
  });
});
