/**
 * Mirror throughput against produce into its source, same run: two managed 1-broker instances; two
 * 3-partition topics on the source, each loaded with FJORD_BENCH_MIRROR_MIB MiB of 1 KiB records by
 * kafkajs (acks=all: the produce reference, timed on the first); then a mirror connector on the
 * target per topic, one after the other — exactly once (the default: one transaction per round) and
 * at least once — each timed from creation until its progress covers every record.
 * Run: `npx tsx test/bench/mirror.bench.ts` (FJORD_BENCH_MIRROR_MIB, default 64).
 */
import { loadavg } from 'node:os';
import { connectorApiOverrides, startConnectWorker, stopConnectWorker } from '@fjord/test-support/connect';
import { instanceWithTopic, startTestService, waitForOperation } from '@fjord/test-support/service';
import kafkajs from 'kafkajs';

const MIB = Number(process.env.FJORD_BENCH_MIRROR_MIB ?? 64);
const RECORD = 1024;
const RECORDS = Math.floor((MIB * 1024 * 1024) / RECORD);
const RUNS = [
  { topic: 'bench-exactly-once', exactlyOnce: true },
  { topic: 'bench-at-least-once', exactlyOnce: false },
] as const;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadBefore = load();

const s = await startTestService(1, {}, connectorApiOverrides);
const workers = [
  startConnectWorker(s.t.databaseUrl, 'bench-a'),
  startConnectWorker(s.t.databaseUrl, 'bench-b'),
];
try {
  const { client: sourceClient } = await s.t.tenant('mirror-source');
  const source = await instanceWithTopic(sourceClient, RUNS[0].topic, 3);
  const second = await sourceClient.call('POST', `/v1/instances/${source.instanceId}/topics`, {
    name: RUNS[1].topic,
    partitions: 3,
  });
  if ((await waitForOperation(sourceClient, second.body.operation.id, 120_000)).status !== 'succeeded')
    throw new Error('topic create failed');
  const { client } = await s.t.tenant('mirror-target');
  const target = await instanceWithTopic(client, 'unused', 1);

  const producer = new kafkajs.Kafka({
    brokers: source.bootstrap.split(','),
    logLevel: kafkajs.logLevel.NOTHING,
  }).producer();
  await producer.connect();
  const value = (i: number) => Buffer.from(`${i}:`.padEnd(RECORD, 'x'));
  let produceSeconds = 0;
  for (const [n, { topic }] of RUNS.entries()) {
    const start = performance.now();
    for (let sent = 0; sent < RECORDS; sent += 1000)
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: Math.min(1000, RECORDS - sent) }, (_, i) => ({
          value: value(sent + i),
        })),
      });
    if (n === 0) produceSeconds = (performance.now() - start) / 1000;
  }
  await producer.disconnect();

  const mb = (RECORDS * RECORD) / 1e6;
  const rows = [
    `| produce into the source (kafkajs, acks=all, reference) | ${RECORDS} | ${produceSeconds.toFixed(1)} | ${(mb / produceSeconds).toFixed(1)} |`,
  ];
  for (const { topic, exactlyOnce } of RUNS) {
    const start = performance.now();
    const c = await client.call('POST', `/v1/instances/${target.instanceId}/connectors`, {
      name: topic,
      type: 'mirror',
      tasksMax: 1,
      config: {
        source: { bootstrapServers: source.bootstrap.split(',') },
        topicsInclude: [topic],
        exactlyOnce,
      },
    });
    if (c.status !== 201) throw new Error(`connector: ${JSON.stringify(c.body)}`);
    for (;;) {
      const o = await client.call(
        'GET',
        `/v1/instances/${target.instanceId}/connectors/${c.body.id}/offsets`,
      );
      const done = (o.body.partitions as { offset: number }[]).reduce((n, p) => n + Number(p.offset), 0);
      if (done >= RECORDS) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const seconds = (performance.now() - start) / 1000;
    rows.push(
      `| mirror, ${exactlyOnce ? 'exactly once' : 'at least once'}, 1 task | ${RECORDS} | ${seconds.toFixed(1)} | ${(mb / seconds).toFixed(1)} |`,
    );
  }
  console.log(`\n${MIB} MiB of ${RECORD} B records, load average before: ${loadBefore}, after: ${load()}\n`);
  console.log('| run | records | seconds | MB/s |\n| --- | ---: | ---: | ---: |');
  for (const r of rows) console.log(r);
} finally {
  for (const w of workers) await stopConnectWorker(w, 'SIGTERM');
  await s.close();
}
