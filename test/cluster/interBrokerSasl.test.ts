/**
 * A cluster whose only listener, also the inter-broker one, is SASL_PLAINTEXT with SCRAM-SHA-512,
 * the StandardAuthorizer on and `super.users=User:fjord-broker` only (User:ANONYMOUS is nobody):
 * three broker processes started at once with the same `--add-scram-file` form a cluster, elect,
 * replicate acks=all writes from librdkafka (authenticated too), lose no acknowledged message when
 * a leader is killed, and take the restarted broker back into every ISR. A fourth broker whose
 * inter-broker password is wrong never joins, and its log says why.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerClient } from '@fjord/broker';
import { LocalCluster } from '@fjord/broker-app';
import { ApiKey } from '@fjord/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterProbe, checkLog, dumpTopic, freshDatabase, ProducerWorkload, waitFor } from './harness.js';

const USER = 'fjord-broker';
const PASSWORD = 'inter-broker-secret';
const MECHANISM = 'SCRAM-SHA-512';
/** Generous: CI runs clusters beside each other on two cores; the claims are asserted separately. */
const LIVENESS_MS = 90_000;
const CLIENT = {
  'security.protocol': 'SASL_PLAINTEXT',
  'sasl.mechanisms': MECHANISM,
  'sasl.username': USER,
  'sasl.password': PASSWORD,
};

let cluster: LocalCluster;
let probe: ClusterProbe;
let db: Awaited<ReturnType<typeof freshDatabase>>;
let baseDir: string;

beforeAll(async () => {
  db = await freshDatabase();
  baseDir = mkdtempSync(join(tmpdir(), 'fjord-cluster-sasl-'));
  cluster = await LocalCluster.create({
    brokers: 4,
    zones: 3,
    databaseUrl: db.url,
    baseDir,
    logLevel: process.env.FJORD_TEST_LOG ?? 'info',
    sasl: { mechanism: MECHANISM, user: USER, password: PASSWORD, passwords: { 4: 'not-the-password' } },
    overrides: {
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': `User:${USER}`,
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'replica.lag.time.max.ms': '10000',
      'offsets.topic.num.partitions': '6',
      'broker.session.timeout.ms': '6000',
    },
  });
  probe = new ClusterProbe(cluster, { sasl: { mechanism: MECHANISM, username: USER, password: PASSWORD } });
  // Brokers 1-3 at once; broker 4 (wrong password) only later, so it cannot be the controller.
  await Promise.all([1, 2, 3].map((id) => cluster.broker(id).start()));
}, 180_000);

afterAll(async () => {
  await cluster?.kill();
  await db?.drop().catch(() => {});
  if (baseDir && !process.env.FJORD_KEEP_CLUSTER) rmSync(baseDir, { recursive: true, force: true });
});

describe.sequential('inter-broker SASL (SCRAM-SHA-512) with only the broker user as super user', () => {
  it('forms: every broker registered and unfenced, authenticated to the controller', async () => {
    await waitFor(
      async () => (await probe.liveBrokers()).join() === '1,2,3',
      LIVENESS_MS,
      'three live brokers',
    );
  });

  it('refuses an unauthenticated client on the listener (there is no ANONYMOUS way in)', async () => {
    const b = cluster.broker(1);
    const client = new BrokerClient(() => ({ host: b.host, port: b.port }), {
      clientId: 'anonymous',
      connectTimeoutMs: 5000,
      requestTimeoutMs: 10_000,
      maxResponseBytes: 1 << 20,
    });
    try {
      await expect(
        client.send(ApiKey.Metadata, 9, {
          topics: [],
          allowAutoTopicCreation: false,
          includeClusterAuthorizedOperations: false,
          includeTopicAuthorizedOperations: false,
        }),
      ).rejects.toThrow();
    } finally {
      client.close();
    }
  });

  it('replicates acks=all writes; a killed leader loses no acknowledged message; the restarted broker rejoins every ISR', {
    timeout: LIVENESS_MS * 4,
  }, async () => {
    const topic = 'sasl-replicated';
    await probe.createTopic(topic, 3, 3);
    await waitFor(
      async () => {
        const ps = await probe.partitions(topic);
        return ps.length === 3 && ps.every((p) => p.isr.length === 3);
      },
      LIVENESS_MS,
      'replicas in sync',
    );
    const bootstrap = cluster.brokers
      .slice(0, 3)
      .map((b) => b.address)
      .join(',');
    const w = new ProducerWorkload(bootstrap, topic, 3, 12, 200, 'ib', CLIENT);
    await waitFor(() => w.acked().length > 200, LIVENESS_MS, 'steady acks');
    const victim = (await probe.partitions(topic))[0]!.leader;
    await cluster.broker(victim).kill();
    const summary = await w.finished();
    const report = checkLog(w.acked(), await dumpTopic(bootstrap, topic, CLIENT));
    console.log(
      `inter-broker SASL: broker ${victim} killed; ${summary.sent} sent, ${report.acknowledged} acknowledged, ${report.inLog} in the log`,
    );
    expect(report.acknowledged).toBeGreaterThan(200);
    expect(report).toMatchObject({ lost: [], duplicated: [], outOfOrder: [] });

    await cluster.broker(victim).start();
    await waitFor(
      async () => (await probe.partitions(topic)).every((p) => p.isr.length === 3),
      LIVENESS_MS,
      `broker ${victim} back in every ISR`,
    );
  });

  it('a broker with the wrong inter-broker password never joins, and says why', {
    timeout: LIVENESS_MS * 2,
  }, async () => {
    const wrong = cluster.broker(4);
    // It serves anyway once its unfence wait is over ("broker started"), but stays unregistered.
    await wrong.start(LIVENESS_MS);
    expect(await probe.liveBrokers()).toEqual([1, 2, 3]);
    const log = readFileSync(join(wrong.dataDir, 'broker.log'), 'utf8');
    expect(log).toContain('inter-broker authentication failed');
    expect(log).toMatch(
      /SASL authentication with SCRAM-SHA-512 as fjord-broker to broker at 127\.0\.0\.\d:\d+ failed/,
    );
    expect(log).not.toContain('registered with the controller');
    // The others are unharmed.
    await waitFor(
      async () => (await probe.underReplicated()) === 0,
      LIVENESS_MS,
      'no under-replicated partitions',
    );
  });
});
