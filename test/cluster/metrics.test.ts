/**
 * Broker metrics on a real 3-broker, 3-AZ cluster (broker processes, PostgreSQL, kafkajs):
 * exactly one broker reports itself the active controller, under-replicated partitions show up
 * on the leaders while a broker is away and go back to zero once it has caught up, and
 * replication traffic and ISR changes are counted.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exact, type Sample, scrape } from '../../packages/broker/test/metrics/promText.js';
import { startTestCluster, type TestCluster, waitFor } from './harness.js';

let t: TestCluster;
/** Generous: these clusters share two busy cores with other tests. */
const LIVENESS_MS = 90_000;

beforeAll(async () => {
  t = await startTestCluster({
    brokers: 3,
    zones: 3,
    overrides: { 'default.replication.factor': '3', 'replica.lag.time.max.ms': '5000' },
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

/** Scrapes of the running brokers, by broker id. */
async function scrapeAll(): Promise<Map<number, Sample[]>> {
  const out = new Map<number, Sample[]>();
  for (const b of t.cluster.brokers) if (b.running) out.set(b.id, await scrape(b.metricsPort, b.host));
  return out;
}

function total(scrapes: Map<number, Sample[]>, name: string, labels: Record<string, string> = {}): number {
  let n = 0;
  for (const m of scrapes.values()) n += exact(m, name, labels) ?? 0;
  return n;
}

describe.sequential('metrics of a 3-broker cluster', () => {
  it('has exactly one active controller, and under-replicated partitions come and go with a broker', async () => {
    const kafka = new Kafka({
      brokers: t.cluster.bootstrapServers.split(','),
      clientId: 'metrics-cluster-test',
      logLevel: logLevel.NOTHING,
      retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: 'replicated', numPartitions: 6, replicationFactor: 3 }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'replicated',
      acks: -1,
      messages: Array.from({ length: 60 }, (_, i) => ({ value: `m${i}`, partition: i % 6 })),
    });
    await producer.disconnect();

    await waitFor(
      async () => {
        const s = await scrapeAll();
        return (
          total(s, 'kafka_controller_kafkacontroller_activecontrollercount') === 1 &&
          total(s, 'kafka_server_replicamanager_underreplicatedpartitions') === 0
        );
      },
      LIVENESS_MS,
      'one controller and nothing under-replicated',
    );
    let s = await scrapeAll();
    const controllers = [...s].filter(
      ([, m]) => exact(m, 'kafka_controller_kafkacontroller_activecontrollercount') === 1,
    );
    expect(controllers).toHaveLength(1);
    expect(total(s, 'kafka_controller_kafkacontroller_offlinepartitionscount')).toBe(0);
    // Every broker hosts all six replicas of the topic; each partition has one leader.
    for (const m of s.values())
      expect(exact(m, 'kafka_server_replicamanager_partitioncount')).toBeGreaterThanOrEqual(6);
    expect(total(s, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'replicated' })).toBe(60);
    // Followers fetched the data: counted as replication on both sides, not as consumer bytes-out.
    const replicatedIn = total(s, 'kafka_server_brokertopicmetrics_replicationbytesin_total', {
      topic: 'replicated',
    });
    const bytesIn = total(s, 'kafka_server_brokertopicmetrics_bytesin_total', { topic: 'replicated' });
    expect(replicatedIn).toBe(2 * bytesIn);
    expect(
      total(s, 'kafka_server_brokertopicmetrics_replicationbytesout_total', { topic: 'replicated' }),
    ).toBeGreaterThanOrEqual(replicatedIn);
    expect(total(s, 'kafka_server_brokertopicmetrics_bytesout_total', { topic: 'replicated' })).toBe(0);

    // A broker goes away (controlled shutdown): the leaders left see shrunk ISRs.
    const away = t.cluster.broker(3);
    await away.stop();
    await waitFor(
      async () => total(await scrapeAll(), 'kafka_server_replicamanager_underreplicatedpartitions') > 0,
      LIVENESS_MS,
      'under-replicated partitions while broker 3 is down',
    );
    s = await scrapeAll();
    expect(total(s, 'kafka_server_replicamanager_isrshrinks_total')).toBeGreaterThan(0);

    // It returns and catches up: back to zero, still exactly one controller.
    await away.start();
    await waitFor(
      async () => {
        const now = await scrapeAll();
        return (
          now.size === 3 &&
          total(now, 'kafka_server_replicamanager_underreplicatedpartitions') === 0 &&
          total(now, 'kafka_controller_kafkacontroller_activecontrollercount') === 1
        );
      },
      LIVENESS_MS,
      'no under-replicated partitions after broker 3 returned',
    );
    s = await scrapeAll();
    expect(total(s, 'kafka_server_replicamanager_isrexpands_total')).toBeGreaterThan(0);
    expect(total(s, 'kafka_controller_kafkacontroller_offlinepartitionscount')).toBe(0);
  }, 240_000);

  it('reports lag on the coordinator for partitions led elsewhere, asking their leaders', async () => {
    const kafka = new Kafka({
      brokers: t.cluster.bootstrapServers.split(','),
      clientId: 'metrics-cluster-lag',
      logLevel: logLevel.NOTHING,
      retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    // One replica each, spread over the brokers: the coordinator hosts at most some of them.
    await admin.createTopics({
      topics: [{ topic: 'single', numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: 'single',
      acks: -1,
      messages: Array.from({ length: 30 }, (_, i) => ({ value: `m${i}`, partition: i % 3 })),
    });
    await producer.disconnect();
    const committed = [1, 4, 9];
    await admin.setOffsets({
      groupId: 'remote-lag',
      topic: 'single',
      partitions: committed.map((offset, partition) => ({ partition, offset: String(offset) })),
    });
    await admin.disconnect();

    const labels = (partition: number) => ({
      group: 'remote-lag',
      topic: 'single',
      partition: String(partition),
    });
    await waitFor(
      async () => {
        const s = await scrapeAll();
        const reporting = [...s.values()].filter(
          (m) => exact(m, 'kafka_consumergroup_current_offset', labels(0)) !== undefined,
        );
        return (
          reporting.length === 1 &&
          committed.every(
            (offset, p) => exact(reporting[0]!, 'kafka_consumergroup_lag', labels(p)) === 10 - offset,
          )
        );
      },
      LIVENESS_MS,
      'lag of every partition on the coordinator only',
    );
    const s = await scrapeAll();
    const reporters = [...s].filter(
      ([, m]) => exact(m, 'kafka_consumergroup_current_offset', labels(0)) !== undefined,
    );
    expect(reporters).toHaveLength(1);
    const [coordinator, m] = reporters[0]!;
    committed.forEach((offset, p) => {
      expect(exact(m, 'kafka_consumergroup_current_offset', labels(p))).toBe(offset);
      expect(exact(m, 'kafka_consumergroup_lag', labels(p))).toBe(10 - offset);
    });
    // At least one of the three partitions is led by another broker (one replica each, three brokers).
    const hostedThere = [0, 1, 2].filter(
      (p) => exact(m, 'kafka_log_log_logendoffset', { topic: 'single', partition: String(p) }) !== undefined,
    );
    expect(hostedThere.length, `broker ${coordinator} hosts ${hostedThere}`).toBeLessThan(3);
  }, 180_000);
});
