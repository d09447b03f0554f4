/**
 * The disk budget on a real 2-broker, 2-AZ cluster (broker processes, PostgreSQL, kcat): with
 * every replica on both brokers, each broker trims its own oldest segments below its mark while
 * replication goes on — the ISR stays whole and acks=all produce keeps being acknowledged.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exact, scrape } from '../../packages/broker/test/metrics/promText.js';
import { startTestCluster, type TestCluster, waitFor } from './harness.js';

const run = promisify(execFile);
const BUDGET = 2_000_000;
/** Generous: these clusters share two busy cores with other tests. */
const LIVENESS_MS = 90_000;

let t: TestCluster;

beforeAll(async () => {
  t = await startTestCluster({
    brokers: 2,
    zones: 2,
    overrides: {
      'default.replication.factor': '2',
      'min.insync.replicas': '2',
      'fjord.instance.disk.check.interval.ms': '200',
    },
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('disk budget with replication', () => {
  it('leaders and followers each trim below the mark and the ISR stays whole', async () => {
    const bootstrap = t.cluster.bootstrapServers;
    const kafka = new Kafka({
      brokers: bootstrap.split(','),
      clientId: 'disk-cluster-test',
      logLevel: logLevel.NOTHING,
      retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic: 'mirrored',
            numPartitions: 2,
            replicationFactor: 2,
            configEntries: [{ name: 'segment.bytes', value: '100000' }],
          },
        ],
        waitForLeaders: true,
      });
      // Each broker's own BROKER resource, as the worker's live spec sets it.
      const ops = new Admin({ clientId: 'ops-tooling', bootstrapBrokers: bootstrap.split(',') });
      try {
        await ops.incrementalAlterConfigs({
          resources: t.cluster.brokers.map((b) => ({
            resourceType: 4,
            resourceName: String(b.id),
            configs: [{ name: 'fjord.instance.disk.bytes', configOperation: 0, value: String(BUDGET) }],
          })),
        });
      } finally {
        await ops.close();
      }

      // About 4 MB with acks=all: each broker holds a replica of every partition.
      const line = (i: number) => `${i}-${'r'.repeat(1000)}`;
      for (let round = 0; round < 4; round++)
        for (let p = 0; p < 2; p++) {
          const producing = run(
            'kcat',
            ['-b', bootstrap, '-t', 'mirrored', '-P', '-p', String(p), '-X', 'acks=all'],
            { timeout: 90_000 },
          );
          producing.child.stdin!.end(
            `${Array.from({ length: 500 }, (_, i) => line(round * 500 + i)).join('\n')}\n`,
          );
          await producing;
        }

      await waitFor(
        async () => {
          for (const b of t.cluster.brokers) {
            const m = await scrape(b.metricsPort, b.host);
            if (
              !(exact(m, 'fjord_disk_budget_deleted_segments_total')! > 0) ||
              !(
                exact(m, 'fjord_disk_budget_used_bytes')! < exact(m, 'fjord_disk_budget_high_water_bytes')!
              ) ||
              exact(m, 'kafka_server_replicamanager_underreplicatedpartitions') !== 0
            )
              return false;
          }
          return true;
        },
        LIVENESS_MS,
        'both brokers below the mark, having trimmed, nothing under-replicated',
      );
      const meta = await admin.fetchTopicMetadata({ topics: ['mirrored'] });
      for (const p of meta.topics[0]!.partitions) expect([...p.isr].sort()).toEqual([...p.replicas].sort());
      const offsets = await admin.fetchTopicOffsets('mirrored');
      for (const o of offsets) {
        expect(Number(o.high)).toBe(2000);
        expect(Number(o.low)).toBeGreaterThan(0);
      }
      const last = await run(
        'kcat',
        ['-b', bootstrap, '-t', 'mirrored', '-C', '-p', '1', '-o', '-1', '-c', '1', '-e', '-q'],
        { timeout: 60_000 },
      );
      expect(last.stdout.trim()).toBe(line(1999));
    } finally {
      await admin.disconnect();
    }
  }, 180_000);
});
