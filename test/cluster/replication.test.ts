/**
 * Replication and failover on a real 3-broker, 3-AZ cluster (broker processes, PostgreSQL,
 * librdkafka as the client): replicas land in distinct AZs, acks=all writes reach every
 * replica, a killed leader is replaced within 3 s with no acknowledged message lost, a restarted
 * broker catches up and gets its leadership back, a controlled shutdown moves leadership away
 * without errors reaching producers, and acks=all is refused below min.insync.replicas.
 */
import { spawnSync } from 'node:child_process';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkLog,
  dumpTopic,
  ProducerWorkload,
  startTestCluster,
  type TestCluster,
  waitFor,
} from './harness.js';

let t: TestCluster;
/**
 * How long the tests wait for the cluster to heal (restarts, catch-up, rebalance). Generous: CI runs
 * these beside other clusters on two cores. The claims under test (failover time, no loss) are
 * asserted separately and tightly.
 */
const LIVENESS_MS = 60_000;

beforeAll(async () => {
  t = await startTestCluster({
    brokers: 3,
    zones: 3,
    overrides: {
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      // Rebalance quickly so the test sees leadership return.
      'leader.imbalance.check.interval.seconds': '2',
      'replica.lag.time.max.ms': '10000',
    },
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

/**
 * How long a partition took no writes around `at`: the longest gap between consecutive acks
 * (as the producer saw them) from a second before to ten seconds after.
 */
function outageAround(acks: { t: number; p?: number }[], partition: number, at: number): number {
  const times = acks
    .filter((a) => a.p === partition && a.t >= at - 1000 && a.t <= at + 10_000)
    .map((a) => a.t);
  if (times.length === 0 || times[times.length - 1]! < at) return Number.POSITIVE_INFINITY;
  let gap = 0;
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return gap;
}

describe.sequential('a 3-broker cluster across 3 AZs', () => {
  it('puts the replicas of every partition in distinct AZs and keeps them identical', {
    timeout: LIVENESS_MS * 3,
  }, async () => {
    await t.probe.createTopic('spread', 6, 3);
    const zoneOf = (id: number) => t.cluster.broker(id).zone;
    for (const p of await t.probe.partitions('spread')) {
      expect(new Set(p.replicas.map(zoneOf)).size).toBe(3);
      expect([...p.isr].sort()).toEqual([1, 2, 3]);
    }
    const bootstrap = t.cluster.bootstrapServers;
    const w = new ProducerWorkload(bootstrap, 'spread', 6, 3, 400, 'spread');
    const summary = await w.finished();
    expect(summary.failed).toBe(0);
    const report = checkLog(w.acked(), await dumpTopic(bootstrap, 'spread'));
    expect(report).toMatchObject({ lost: [], duplicated: [], outOfOrder: [] });
    expect(report.acknowledged).toBe(summary.sent);
    // Every replica holds the same bytes (DescribeLogDirs sizes, once the followers caught up).
    await waitFor(
      async () => {
        const sizes = new Map<number, number[]>();
        for (const b of t.cluster.brokers) {
          const r = await t.probe.sendTo(b.id, ApiKey.DescribeLogDirs, 4, {
            topics: [{ topic: 'spread', partitions: [0, 1, 2, 3, 4, 5] }],
          });
          for (const dir of r.results)
            for (const topic of dir.topics)
              for (const p of topic.partitions)
                sizes.set(p.partitionIndex, [
                  ...(sizes.get(p.partitionIndex) ?? []),
                  Number(p.partitionSize),
                ]);
        }
        return [...sizes.values()].every((s) => s.length === 3 && s.every((x) => x === s[0] && x > 0));
      },
      10_000,
      'identical replicas',
    );
  });

  for (const victim of ['the controller', 'a broker that is not the controller'] as const) {
    it(`replaces a killed leader (${victim}) within 3 s under steady produce, losing no acknowledged message`, {
      timeout: LIVENESS_MS * 4,
    }, async () => {
      const topic = `failover-${victim === 'the controller' ? 'controller' : 'broker'}`;
      await t.probe.createTopic(topic, 3, 3);
      const bootstrap = t.cluster.bootstrapServers;
      const w = new ProducerWorkload(bootstrap, topic, 3, 12, 300, 'fo');
      await waitFor(() => w.acked().length > 300, 30_000, 'steady acks');
      const controller = await t.probe.controllerId();
      const target = (await t.probe.partitions(topic)).find((p) =>
        victim === 'the controller' ? p.leader === controller : p.leader !== controller,
      )!;
      const killedAt = Date.now();
      await t.cluster.broker(target.leader).kill();
      const summary = await w.finished();
      const outage = outageAround(w.acked(), target.partition, killedAt);
      console.log(
        `failover (${victim}): partition ${target.partition} took no writes for ${outage} ms after its leader, broker ${target.leader}, was killed`,
      );
      expect(outage).toBeLessThan(3000);
      const report = checkLog(w.acked(), await dumpTopic(bootstrap, topic));
      console.log(
        `failover: ${summary.sent} sent, ${report.acknowledged} acknowledged, ${report.inLog} in the log`,
      );
      expect(report).toMatchObject({ lost: [], duplicated: [], outOfOrder: [] });

      // The killed broker comes back, catches up into every ISR, and leads again (auto rebalance).
      await t.cluster.broker(target.leader).start();
      await waitFor(
        async () => (await t.probe.partitions(topic)).every((p) => p.isr.length === 3),
        LIVENESS_MS,
        'full ISRs',
      );
      await waitFor(
        async () => (await t.probe.partitions(topic)).every((p) => p.leader === p.replicas[0]),
        LIVENESS_MS,
        'preferred leaders back',
      );
    });
  }

  it('moves leadership away before a controlled shutdown, so producers see no error', {
    timeout: LIVENESS_MS * 4,
  }, async () => {
    await t.probe.createTopic('graceful', 3, 3);
    const bootstrap = t.cluster.bootstrapServers;
    const w = new ProducerWorkload(bootstrap, 'graceful', 3, 8, 300, 'gr');
    await waitFor(() => w.acked().length > 300, 30_000, 'steady acks');
    const leader = (await t.probe.partitions('graceful'))[1]!.leader;
    await t.cluster.broker(leader).stop();
    const after = await t.probe.partitions('graceful');
    expect(after.every((p) => p.leader !== leader && !p.isr.includes(leader))).toBe(true);
    const summary = await w.finished();
    expect(w.deliveries.filter((d) => d.err)).toEqual([]);
    expect(summary.acked).toBe(summary.sent);
    const report = checkLog(w.acked(), await dumpTopic(bootstrap, 'graceful'));
    expect(report).toMatchObject({ lost: [], duplicated: [], outOfOrder: [] });
    await t.cluster.broker(leader).start();
    await waitFor(
      async () => (await t.probe.partitions('graceful')).every((p) => p.isr.length === 3),
      LIVENESS_MS,
      'full ISRs',
    );
  });

  it('answers ElectLeaders and ListPartitionReassignments through any broker', {
    timeout: LIVENESS_MS * 2,
  }, async () => {
    await t.probe.createTopic('elect', 2, 3);
    // Sent to the broker that is not the controller when there is one: the request is forwarded.
    const controller = await t.probe.controllerId();
    const other = t.cluster.brokers.find((b) => b.running && b.id !== controller)!.id;
    const r = await t.probe.sendTo(other, ApiKey.ElectLeaders, 2, {
      electionType: 0,
      topicPartitions: [
        { topic: 'elect', partitions: [0, 1] },
        { topic: 'no-such-topic', partitions: [0] },
      ],
      timeoutMs: 10_000,
    });
    const codes = Object.fromEntries(
      r.replicaElectionResults.flatMap((t) =>
        t.partitionResult.map((p) => [`${t.topic}-${p.partitionId}`, p.errorCode]),
      ),
    );
    // Leaders start on the preferred replica already.
    expect(codes).toEqual({
      'elect-0': ErrorCode.ELECTION_NOT_NEEDED,
      'elect-1': ErrorCode.ELECTION_NOT_NEEDED,
      'no-such-topic-0': ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    });
    const listed = await t.probe.sendTo(other, ApiKey.ListPartitionReassignments, 0, {
      timeoutMs: 10_000,
      topics: null,
    });
    expect(listed).toMatchObject({ errorCode: 0, topics: [] });
  });

  it('refuses acks=all below min.insync.replicas and still takes acks=1', {
    timeout: LIVENESS_MS * 3,
  }, async () => {
    await t.probe.createTopic('minisr', 1, 3);
    const [p] = await t.probe.partitions('minisr');
    const others = p!.replicas.filter((r) => r !== p!.leader);
    for (const id of others) await t.cluster.broker(id).kill();
    const leader = t.cluster.broker(p!.leader);
    await waitFor(
      async () => (await t.probe.partitions('minisr'))[0]!.isr.length === 1,
      LIVENESS_MS,
      'ISR of one',
    );
    const produce = (acks: string) =>
      // No retries: the broker's answer reaches the caller instead of being retried until timeout.
      spawnSync(
        'kcat',
        [
          '-b',
          leader.address,
          '-t',
          'minisr',
          '-P',
          '-X',
          `acks=${acks}`,
          '-X',
          'retries=0',
          '-X',
          'message.timeout.ms=5000',
        ],
        {
          input: 'x\n',
          encoding: 'utf8',
          timeout: LIVENESS_MS,
        },
      );
    expect(produce('all').stderr).toMatch(/NOT_ENOUGH_REPLICAS|Not enough in-sync replicas/i);
    const one = produce('1');
    expect(one.status).toBe(0);
    expect(one.stderr).not.toMatch(/error/i);
    for (const id of others) await t.cluster.broker(id).start();
  });
});
