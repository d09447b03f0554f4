/**
 * An availability zone goes down: 6 brokers in 3 AZs, RF=3 and min.insync.replicas=2, an
 * idempotent producer and a consumer group running throughout. Every broker of one AZ is
 * killed; produce and consume carry on; the AZ comes back, its replicas catch up, and
 * leadership returns to the preferred replicas. Nothing acknowledged is lost or duplicated, and
 * the consumers see every message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConsumerWorkload,
  checkLog,
  dumpTopic,
  ProducerWorkload,
  startTestCluster,
  type TestCluster,
  waitFor,
} from './harness.js';

let t: TestCluster;

beforeAll(async () => {
  t = await startTestCluster({
    brokers: 6,
    zones: 3,
    overrides: {
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'leader.imbalance.check.interval.seconds': '2',
    },
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('an AZ outage', () => {
  it('keeps producing and consuming while a whole AZ is down, then heals', { timeout: 180_000 }, async () => {
    await t.probe.createTopic('az', 12, 3);
    const bootstrap = t.cluster.bootstrapServers;
    const producer = new ProducerWorkload(bootstrap, 'az', 12, 25, 200, 'az');
    const consumers = [0, 1].map(() => new ConsumerWorkload(bootstrap, 'az', 'az-readers', 45));
    await waitFor(() => producer.acked().length > 400, 30_000, 'steady acks');

    const zone = t.cluster.inZone('az-1');
    for (const b of zone) await b.kill();
    const downAt = Date.now();
    // Every partition has a live leader again, from the other two AZs.
    await waitFor(
      async () => {
        const ps = await t.probe.partitions('az');
        return ps.every((p) => p.leader >= 0 && !zone.some((b) => b.id === p.leader));
      },
      10_000,
      'leaders outside az-1',
    );
    const ackedBefore = producer.acked().length;
    await new Promise((r) => setTimeout(r, 6000));
    // Writes kept being acknowledged during the outage.
    expect(producer.acked().filter((a) => a.t > downAt + 3000).length).toBeGreaterThan(500);
    expect(producer.acked().length).toBeGreaterThan(ackedBefore);

    for (const b of zone) await b.start();
    await waitFor(async () => (await t.probe.underReplicated()) === 0, 60_000, 'az-1 replicas to catch up');
    await waitFor(
      async () => (await t.probe.partitions('az')).every((p) => p.leader === p.replicas[0]),
      30_000,
      'preferred leaders back',
    );

    const summary = await producer.finished();
    await Promise.all(consumers.map((c) => c.finished()));
    const report = checkLog(producer.acked(), await dumpTopic(bootstrap, 'az'));
    console.log(
      `az outage: ${summary.sent} sent, ${report.acknowledged} acknowledged, ${report.inLog} in the log, ` +
        `consumers read ${consumers.reduce((n, c) => n + c.records.length, 0)} records`,
    );
    expect(report).toMatchObject({ lost: [], duplicated: [], outOfOrder: [] });
    expect(summary.failed).toBe(0);
    const seen = new Set([...consumers[0]!.values(), ...consumers[1]!.values()]);
    expect(producer.acked().filter((a) => !seen.has(a.v))).toEqual([]);
    expect(consumers.flatMap((c) => c.errors())).toEqual([]);
  });
});
