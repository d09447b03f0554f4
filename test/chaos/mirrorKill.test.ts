import type { ChildProcess } from 'node:child_process';
import type { RestClient } from '@fjord/test-support/api';
import { connectorApiOverrides, startConnectWorker, stopConnectWorker } from '@fjord/test-support/connect';
import { eventually } from '@fjord/test-support/monitoring';
import { startTestService, type TestService, waitForOperation } from '@fjord/test-support/service';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConsumerWorkload,
  checkLog,
  dumpTopic,
  ProducerWorkload,
  startTestCluster,
  type TestCluster,
} from '../cluster/harness.js';

/**
 * Issue 14's mirror test: a topic of a 3-broker source cluster (RF=3) mirrored into a managed
 * instance under a steady producer, while the connect worker copying it and a source broker are
 * killed with kill -9 (and come back). The target's read_committed view must hold every source
 * record exactly once, in the source's order per partition; a consumer group that was reading the
 * source and moves to the target resumes at the record it had not yet processed.
 * FJORD_MIRROR_CHAOS_SECONDS lengthens the load (default 15 s).
 */
const SECONDS = Number(process.env.FJORD_MIRROR_CHAOS_SECONDS ?? 15);
const TOPIC = 'payments';
const GROUP = 'ledger-app';

let s: TestService;
let source: TestCluster;
let client: RestClient;
let instanceId: string;
let bootstrap: string;
const workers = new Map<string, ChildProcess>();

beforeAll(async () => {
  [s, source] = await Promise.all([
    startTestService(1, {}, connectorApiOverrides),
    startTestCluster({ brokers: 3, zones: 3 }),
  ]);
  client = (await s.t.tenant('mirror-chaos')).client;
  const created = await client.call('POST', '/v1/instances', {
    name: 'dst',
    zones: ['az-1'],
    brokerCount: 1,
  });
  expect(created.status).toBe(202);
  instanceId = created.body.instance.id;
  expect((await waitForOperation(client, created.body.operation.id, 120_000)).status).toBe('succeeded');
  bootstrap = (await client.call('GET', `/v1/instances/${instanceId}`)).body.bootstrapServers.find(
    (b: { route: string }) => b.route === 'internal',
  ).servers;
  await source.probe.createTopic(TOPIC, 3, 3, { 'min.insync.replicas': '2' });
  for (const id of ['mirror-w1', 'mirror-w2']) workers.set(id, startConnectWorker(s.t.databaseUrl, id));
}, 240_000);

afterAll(async () => {
  for (const w of workers.values()) await stopConnectWorker(w, 'SIGKILL');
  await source?.close();
  await s?.close();
});

/** The worker holding the connector's task, from the lease rows. */
async function holderOf(connectorId: string): Promise<string | undefined> {
  const pool = new pg.Pool({ connectionString: s.t.databaseUrl, max: 1 });
  try {
    const r = await pool.query<{ workerId: string | null }>(
      `SELECT "workerId" FROM "ConnectorTask" WHERE "connectorId" = $1 AND "leaseExpiresAt" > now()`,
      [connectorId],
    );
    return r.rows[0]?.workerId ?? undefined;
  } finally {
    await pool.end();
  }
}

describe('mirror under failures', () => {
  it('holds every source record exactly once through kill -9 of the copying worker and of a source broker; a moved group resumes where it was', async () => {
    const srcBootstrap = source.cluster.bootstrapServers;
    const producer = new ProducerWorkload(srcBootstrap, TOPIC, 3, SECONDS, 100, 'pay');
    const reader = new ConsumerWorkload(srcBootstrap, TOPIC, GROUP, SECONDS);
    const created = await client.call('POST', `/v1/instances/${instanceId}/connectors`, {
      name: 'from-source',
      type: 'mirror',
      tasksMax: 1,
      config: {
        source: { bootstrapServers: srcBootstrap.split(',') },
        topicsInclude: [TOPIC],
        groupsInclude: [GROUP],
        checkpointIntervalMs: 1000,
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const connectorId: string = created.body.id;

    // The worker copying the topic dies mid-run; a replacement process starts under the same id.
    const victim = await eventually('the task taken', 60_000, () => holderOf(connectorId));
    await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 3));
    await stopConnectWorker(workers.get(victim)!, 'SIGKILL');
    workers.set(victim, startConnectWorker(s.t.databaseUrl, victim));
    // Then a source broker (not the controller's only copy of anything: RF=3, min.insync 2).
    await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 3));
    const broker = source.cluster.broker(1);
    await broker.kill();
    await new Promise((r) => setTimeout(r, 3000));
    await broker.start();

    await producer.finished();
    await reader.finished();
    const sourceRecords = await dumpTopic(srcBootstrap, TOPIC);
    expect(checkLog(producer.acked(), sourceRecords).lost).toEqual([]);
    const byPartition = (records: [number, number, string][]) =>
      [0, 1, 2].map((p) => records.filter(([q]) => q === p).map(([, , v]) => v));
    const want = byPartition(sourceRecords);

    // The target's committed view equals the source, partition by partition, in order.
    const committed = { 'isolation.level': 'read_committed' };
    const got = await eventually('the target caught up', 180_000, async () => {
      const records = await dumpTopic(bootstrap, TOPIC, committed);
      return records.length >= sourceRecords.length ? records : undefined;
    });
    const report = checkLog(producer.acked(), got);
    expect({ lost: report.lost, duplicated: report.duplicated, outOfOrder: report.outOfOrder }).toEqual({
      lost: [],
      duplicated: [],
      outOfOrder: [],
    });
    expect(byPartition(got)).toEqual(want);

    // The group's committed source offsets, translated: each points at the same record on the target.
    const srcAdmin = new kafkajs.Kafka({
      brokers: srcBootstrap.split(','),
      logLevel: kafkajs.logLevel.NOTHING,
    }).admin();
    await srcAdmin.connect();
    const [srcOffsets] = await srcAdmin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    await srcAdmin.disconnect();
    const dstAdmin = new kafkajs.Kafka({
      brokers: bootstrap.split(','),
      logLevel: kafkajs.logLevel.NOTHING,
    }).admin();
    await dstAdmin.connect();
    try {
      const valueAt = (records: [number, number, string][], p: number, offset: number) =>
        records.find(([q, o]) => q === p && o >= offset)?.[2] ?? 'end';
      await eventually('the group translated onto the target', 60_000, async () => {
        const [dstOffsets] = await dstAdmin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
        const mismatched = srcOffsets!.partitions.filter((sp) => {
          const dp = dstOffsets?.partitions.find((x) => x.partition === sp.partition);
          if (Number(sp.offset) < 0) return false;
          return (
            !dp ||
            Number(dp.offset) < 0 ||
            valueAt(got, sp.partition, Number(dp.offset)) !==
              valueAt(sourceRecords, sp.partition, Number(sp.offset))
          );
        });
        return mismatched.length === 0 ? true : undefined;
      });
    } finally {
      await dstAdmin.disconnect();
    }
    expect(reader.values().size).toBeGreaterThan(0);
  }, 600_000);
});
