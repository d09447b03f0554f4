/**
 * Time to heal after kill -9: a managed 3-broker instance over 3 zones, a topic with 3 replicas
 * under an idempotent acks=all librdkafka producer; brokers are killed with SIGKILL one after another
 * (round robin), and each kill is timed until the zone agent has the broker running again
 * ("back") and until no partition is under-replicated ("healed"). Everything produced is read
 * back at the end: lost and duplicated must be 0.
 * Run: `npx tsx test/bench/heal-time.bench.ts` (FJORD_BENCH_KILLS, default 10).
 */
import { loadavg } from 'node:os';
import { startTestService, waitForOperation } from '@fjord/test-support/service';
import kafkajs from 'kafkajs';
import { checkLog, dumpTopic, ProducerWorkload } from '../cluster/harness.js';

const KILLS = Number(process.env.FJORD_BENCH_KILLS ?? 10);
const TOPIC = 'heal';
const loadBefore = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');

const s = await startTestService(3);
try {
  const { client } = await s.t.tenant('heal-bench');
  const created = await client.call('POST', '/v1/instances', {
    name: 'heal',
    zones: ['az-1', 'az-2', 'az-3'],
    brokerCount: 3,
  });
  const instanceId = created.body.instance.id as string;
  if ((await waitForOperation(client, created.body.operation.id, 300_000)).status !== 'succeeded')
    throw new Error('instance create failed');
  const bootstrap = (await client.call('GET', `/v1/instances/${instanceId}`)).body.bootstrapServers.find(
    (b: { route: string }) => b.route === 'internal',
  ).servers as string;
  const topic = await client.call('POST', `/v1/instances/${instanceId}/topics`, {
    name: TOPIC,
    partitions: 6,
    replicationFactor: 3,
    configs: { 'min.insync.replicas': '2' },
  });
  if ((await waitForOperation(client, topic.body.operation.id, 120_000)).status !== 'succeeded')
    throw new Error('topic create failed');

  const admin = new kafkajs.Kafka({
    brokers: bootstrap.split(','),
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  const underReplicated = async () => {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [TOPIC] });
      return topics[0]!.partitions.filter((p) => p.isr.length < p.replicas.length).length;
    } catch {
      return Number.POSITIVE_INFINITY; // the broker answering was the one killed: ask again
    }
  };
  const brokerOf = async (brokerId: number) => {
    for (const a of s.agents)
      for (const b of await a.processes.list())
        if (b.instanceId === instanceId && b.brokerId === brokerId) return b;
    throw new Error(`broker ${brokerId} not found`);
  };

  // confluent-kafka-python (librdkafka), idempotent, acks=all, 200 records/s, every delivery reported.
  const producer = new ProducerWorkload(bootstrap, TOPIC, 6, 3600, 200, 'heal');
  await sleep(3000);
  const back: number[] = [];
  const healed: number[] = [];
  for (let i = 0; i < KILLS; i++) {
    const brokerId = (i % 3) + 1;
    const victim = await brokerOf(brokerId);
    const killedAt = Date.now();
    process.kill(victim.pid!, 'SIGKILL');
    let backAt: number | undefined;
    for (;;) {
      const b = await brokerOf(brokerId);
      if (backAt === undefined && b.running && b.pid !== victim.pid) backAt = Date.now();
      if (backAt !== undefined && (await underReplicated()) === 0) break;
      if (Date.now() - killedAt > 300_000) throw new Error(`broker ${brokerId} did not heal in 5 minutes`);
      await sleep(100);
    }
    back.push(backAt! - killedAt);
    healed.push(Date.now() - killedAt);
    console.log(
      `kill ${i + 1}/${KILLS} (broker ${brokerId}): back ${back.at(-1)} ms, healed ${healed.at(-1)} ms`,
    );
    await sleep(2000);
  }
  const summary = await producer.stop();
  await admin.disconnect();
  const report = checkLog(producer.acked(), await dumpTopic(bootstrap, TOPIC));

  const loadAfter = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(
    `\ndate ${new Date().toISOString()}; load average before / after: ${loadBefore} / ${loadAfter}`,
  );
  console.log(
    `produced ${summary.sent}, acknowledged ${report.acknowledged} (failed ${summary.failed}), in the log ${report.inLog}: ` +
      `lost ${report.lost.length}, duplicated ${report.duplicated.length}, out of order ${report.outOfOrder.length}`,
  );
  console.log('| measure | kills | p50 ms | p99 ms | max ms |');
  console.log('| --- | --: | --: | --: | --: |');
  for (const [name, xs] of [
    ['back (process running again)', back],
    ['healed (0 under-replicated)', healed],
  ] as const)
    console.log(`| ${name} | ${xs.length} | ${pct(xs, 50)} | ${pct(xs, 99)} | ${Math.max(...xs)} |`);
} finally {
  await s.close();
}

function pct(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
