/**
 * Partition reassignment under load: a topic on brokers 1–3 is moved, every replica, to brokers
 * 4–6 with a real client's AlterPartitionReassignments (kafkajs) while an idempotent producer
 * writes and a consumer group reads it. The new replicas catch up and join the ISRs, the old ones
 * leave (leadership moves with them), and neither application sees a single error.
 */
import { join } from 'node:path';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from '../compat/clients.js';
import {
  ConsumerWorkload,
  checkLog,
  dumpTopic,
  ProducerWorkload,
  startTestCluster,
  type TestCluster,
  waitFor,
} from './harness.js';

const REASSIGN = join(import.meta.dirname, 'clients/reassign.mjs');
const PARTITIONS = 6;
let t: TestCluster;

beforeAll(async () => {
  t = await startTestCluster({
    brokers: 6,
    zones: 3,
    overrides: { 'default.replication.factor': '3', 'min.insync.replicas': '2' },
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

const rotate = (ids: number[], by: number) => ids.map((_, i) => ids[(i + by) % ids.length]!);

describe('partition reassignment', () => {
  it('moves every replica of a busy topic to other brokers with no client error', {
    timeout: 180_000,
  }, async () => {
    const from = Array.from({ length: PARTITIONS }, (_, p) => rotate([1, 2, 3], p));
    const to = Array.from({ length: PARTITIONS }, (_, p) => rotate([4, 5, 6], p));
    await t.probe.createTopic('moving', PARTITIONS, 3, {}, from);
    const bootstrap = t.cluster.bootstrapServers;
    const producer = new ProducerWorkload(bootstrap, 'moving', PARTITIONS, 25, 300, 'mv');
    const consumers = [0, 1].map(() => new ConsumerWorkload(bootstrap, 'moving', 'movers', 45));
    await waitFor(() => producer.acked().length > 1000, 30_000, 'a busy topic');

    const started = await runProcess(process.execPath, [
      REASSIGN,
      bootstrap,
      'moving',
      JSON.stringify({ ...to }),
    ]);
    expect(started).toEqual({ started: true });
    await waitFor(
      async () => {
        const ps = await t.probe.partitions('moving');
        return ps.every((p, i) => p.replicas.join() === to[i]!.join() && p.isr.length === 3);
      },
      60_000,
      'the replicas to move',
    );
    const listed = await runProcess(process.execPath, [REASSIGN, bootstrap, 'moving', 'list']);
    expect(listed).toEqual({ ongoing: [] });
    for (const p of await t.probe.partitions('moving')) expect(to[p.partition]).toContain(p.leader);
    // The old brokers no longer keep the topic's data.
    await waitFor(
      async () => {
        for (const id of [1, 2, 3]) {
          const r = await t.probe.sendTo(id, ApiKey.DescribeLogDirs, 4, {
            topics: [{ topic: 'moving', partitions: [0, 1, 2, 3, 4, 5] }],
          });
          if (r.results.some((d) => d.topics.some((tp) => tp.partitions.length > 0))) return false;
        }
        return true;
      },
      15_000,
      'old replicas deleted',
    );

    const summary = await producer.finished();
    await Promise.all(consumers.map((c) => c.finished()));
    const report = checkLog(producer.acked(), await dumpTopic(bootstrap, 'moving'));
    console.log(
      `reassignment: ${summary.sent} sent, ${report.acknowledged} acknowledged, ${report.inLog} in the log, ` +
        `consumers read ${consumers.reduce((n, c) => n + c.records.length, 0)}`,
    );
    expect(producer.deliveries.filter((d) => d.err)).toEqual([]);
    expect(consumers.flatMap((c) => c.errors())).toEqual([]);
    expect(report).toMatchObject({ lost: [], duplicated: [], outOfOrder: [] });
    const seen = new Set(consumers.flatMap((c) => [...c.values()]));
    expect(producer.acked().filter((a) => !seen.has(a.v))).toEqual([]);
  });

  it('unregisters a broker the reassignment emptied: no replica can be placed on it until it runs again', {
    timeout: 120_000,
  }, async () => {
    await t.cluster.broker(1).stop();
    // Whichever broker gets it forwards it to the controller, as for other admin requests.
    expect(await t.probe.send(ApiKey.UnregisterBroker, 0, { brokerId: 1 })).toMatchObject({
      errorCode: ErrorCode.NONE,
    });
    expect(await t.probe.send(ApiKey.UnregisterBroker, 0, { brokerId: 1 })).toMatchObject({
      errorCode: ErrorCode.BROKER_ID_NOT_REGISTERED,
      errorMessage: 'Broker ID 1 is not currently registered',
    });
    const moveToBroker1 = () =>
      t.probe.send(ApiKey.AlterPartitionReassignments, 0, {
        timeoutMs: 30_000,
        topics: [{ name: 'moving', partitions: [{ partitionIndex: 0, replicas: [1, 5, 6] }] }],
      });
    expect((await moveToBroker1()).responses[0]!.partitions[0]).toMatchObject({
      errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      errorMessage: 'Unknown broker 1 in the assignment.',
    });
    // A broker that runs again registers again (its heartbeat is answered BROKER_ID_NOT_REGISTERED).
    await t.cluster.broker(1).start();
    await waitFor(
      async () => (await t.probe.liveBrokers()).includes(1),
      60_000,
      'broker 1 to register again',
    );
  });
});
