/**
 * Replication throttles (KIP-73) as `kafka-reassign-partitions --throttle` sets them: broker
 * rates (`leader.replication.throttled.rate`, `follower.replication.throttled.rate`) and the
 * replicas a topic lists as throttled. A reassignment that adds a replica catches up no faster
 * than the rate allows, on either side, and completes once the throttle is lifted.
 */
import { execFileSync } from 'node:child_process';
import { ApiKey } from '@fjord/protocol';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster, waitFor } from './harness.js';

const BROKER = 4; // kafkajs ConfigResourceTypes
const TOPIC = 2;
const DATA_BYTES = 8 * 1024 * 1024;
const RATE = 100_000; // bytes/s
let t: TestCluster;
let admin: kafkajs.Admin;

beforeAll(async () => {
  t = await startTestCluster({ brokers: 3, zones: 3 });
  admin = new kafkajs.Kafka({
    brokers: t.cluster.bootstrapServers.split(','),
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
}, 120_000);

afterAll(async () => {
  await admin?.disconnect();
  await t?.close();
});

/** 8 MiB in 1 KiB lines on broker 1 only. */
async function filledTopic(name: string): Promise<void> {
  await t.probe.createTopic(name, 1, 1, {}, [[1]]);
  const line = `${'x'.repeat(1023)}\n`;
  execFileSync('kcat', ['-b', t.cluster.bootstrapServers, '-t', name, '-P', '-X', 'linger.ms=50'], {
    input: line.repeat(DATA_BYTES / 1024),
    maxBuffer: 64 * 1024 * 1024,
  });
}

async function replicaBytes(brokerId: number, topic: string): Promise<number> {
  const r = await t.probe.sendTo(brokerId, ApiKey.DescribeLogDirs, 4, {
    topics: [{ topic, partitions: [0] }],
  });
  return (
    r.results.flatMap((d) =>
      d.topics.flatMap((tp) => tp.partitions.map((p) => Number(p.partitionSize))),
    )[0] ?? 0
  );
}

async function setConfigs(type: number, name: string, entries: Record<string, string>) {
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      { type, name, configEntries: Object.entries(entries).map(([k, v]) => ({ name: k, value: v })) },
    ],
  });
}

/**
 * Starts moving the topic's partition onto [1, 2] and checks, 5 s in, that broker 2 holds no more
 * than the rate allows: the quota's 10 s minimum window at RATE plus one fetch (1 MiB), well
 * short of the 8 MiB an unthrottled catch-up copies in that time. Then lifts the throttle.
 */
async function throttledCatchUp(topic: string, lift: () => Promise<void>) {
  await admin.alterPartitionReassignments({
    topics: [{ topic, partitionAssignment: [{ partition: 0, replicas: [1, 2] }] }],
  });
  await new Promise((r) => setTimeout(r, 5000));
  const copied = await replicaBytes(2, topic);
  expect(copied).toBeLessThan(10 * RATE + 1024 * 1024 + 256 * 1024);
  expect((await t.probe.partitions(topic))[0]!.isr).toEqual([1]);
  await lift();
  await waitFor(
    async () => (await t.probe.partitions(topic))[0]!.isr.length === 2,
    120_000,
    'the new replica to catch up once the throttle is lifted',
  );
  expect(await replicaBytes(2, topic)).toBe(await replicaBytes(1, topic));
}

describe('replication throttles', () => {
  it('hold a new follower to follower.replication.throttled.rate until lifted', {
    timeout: 240_000,
  }, async () => {
    await filledTopic('slow-follower');
    await setConfigs(BROKER, '2', { 'follower.replication.throttled.rate': String(RATE) });
    await setConfigs(TOPIC, 'slow-follower', { 'follower.replication.throttled.replicas': '0:2' });
    await throttledCatchUp('slow-follower', () => setConfigs(BROKER, '2', {}));
  });

  it('hold a leader to leader.replication.throttled.rate for the replicas listed, until lifted', {
    timeout: 240_000,
  }, async () => {
    await filledTopic('slow-leader');
    await setConfigs(BROKER, '1', { 'leader.replication.throttled.rate': String(RATE) });
    await setConfigs(TOPIC, 'slow-leader', { 'leader.replication.throttled.replicas': '*' });
    await throttledCatchUp('slow-leader', () => setConfigs(TOPIC, 'slow-leader', {}));
  });

  it('refuse a malformed throttled replica list with INVALID_CONFIG', async () => {
    await t.probe.createTopic('listed', 1, 1, {}, [[1]]);
    await expect(
      setConfigs(TOPIC, 'listed', { 'leader.replication.throttled.replicas': '0-1' }),
    ).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
  });
});
