/**
 * An instance that emulates an older Kafka release for its clients (`fjord.kafka.version`, e.g. 2.8,
 * whose brokers answer Fetch up to v12) still replicates: its brokers fetch from each other with the
 * versions Fjord implements (Fetch v13), as Kafka's inter.broker.protocol.version is separate from
 * what clients see.
 */
import { spawnSync } from 'node:child_process';
import { ApiKey } from '@fjord/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster, waitFor } from './harness.js';

/** Failure detection only: clusters run beside other tests on two cores. */
const SETTLE_MS = 60_000;
let t: TestCluster;

beforeAll(async () => {
  t = await startTestCluster({
    brokers: 2,
    zones: 2,
    overrides: { 'fjord.kafka.version': '2.8', 'min.insync.replicas': '2' },
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('a cluster emulating Kafka 2.8', () => {
  it('shows clients 2.8 versions and keeps both replicas in sync under acks=all', {
    timeout: SETTLE_MS * 3,
  }, async () => {
    const versions = await t.probe.send(ApiKey.ApiVersions, 3, {
      clientSoftwareName: 'test',
      clientSoftwareVersion: '1',
    });
    expect(versions.apiKeys.find((a) => a.apiKey === ApiKey.Fetch)?.maxVersion).toBe(12);

    await t.probe.createTopic('replicated', 1, 2);
    const produced = spawnSync(
      'kcat',
      [
        '-b',
        t.cluster.bootstrapServers,
        '-t',
        'replicated',
        '-P',
        '-X',
        'acks=all',
        '-X',
        'message.timeout.ms=60000',
      ],
      { input: 'a\nb\nc\n', encoding: 'utf8', timeout: SETTLE_MS * 2 },
    );
    expect(produced.status, produced.stderr).toBe(0);
    expect(produced.stderr).not.toMatch(/error|fail/i);
    await waitFor(
      async () => {
        const [p] = await t.probe.partitions('replicated');
        return p!.isr.length === 2;
      },
      SETTLE_MS,
      'both replicas in sync',
    );
    // The follower holds the same bytes as the leader.
    const sizes = [];
    for (const b of t.cluster.brokers) {
      const r = await t.probe.sendTo(b.id, ApiKey.DescribeLogDirs, 4, {
        topics: [{ topic: 'replicated', partitions: [0] }],
      });
      sizes.push(
        r.results.flatMap((d) => d.topics.flatMap((tp) => tp.partitions.map((p) => p.partitionSize))),
      );
    }
    expect(sizes[0]![0]).toBeGreaterThan(0n);
    expect(sizes[1]).toEqual(sizes[0]);
  });
});
