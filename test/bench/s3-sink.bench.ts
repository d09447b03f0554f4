/**
 * Object-storage sink throughput: a managed 1-broker instance, a 3-partition topic preloaded with
 * FJORD_BENCH_SINK_MIB MiB of 1 KiB records (kafkajs, acks=all; its rate is printed as the
 * reference), then an S3 sink connector (s3rver on this machine, JSON lines gzip, 16 MiB objects)
 * with 1 task and with 3 tasks on two connect workers, each timed from creation until every record
 * is committed. MB/s counts record values.
 * Run: `npx tsx test/bench/s3-sink.bench.ts` (FJORD_BENCH_SINK_MIB, default 64).
 */
import { loadavg } from 'node:os';
import { startConnectWorker, stopConnectWorker } from '@fjord/test-support/connect';
import { S3RVER_CREDENTIALS, startTestS3 } from '@fjord/test-support/s3';
import { instanceWithTopic, startTestService } from '@fjord/test-support/service';
import kafkajs from 'kafkajs';

const MIB = Number(process.env.FJORD_BENCH_SINK_MIB ?? 64);
const RECORD = 1024;
const RECORDS = Math.floor((MIB * 1024 * 1024) / RECORD);
const TOPIC = 'bench';
const loadBefore = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');

const s = await startTestService(1);
const s3 = await startTestS3(['one-task', 'three-tasks']);
const workers = [
  startConnectWorker(s.t.databaseUrl, 'bench-a'),
  startConnectWorker(s.t.databaseUrl, 'bench-b'),
];
try {
  const { client } = await s.t.tenant('sink-bench');
  const { instanceId, bootstrap } = await instanceWithTopic(client, TOPIC, 3);

  const producer = new kafkajs.Kafka({
    brokers: bootstrap.split(','),
    logLevel: kafkajs.logLevel.NOTHING,
  }).producer();
  await producer.connect();
  const value = Buffer.alloc(RECORD, 'x');
  const produceStart = performance.now();
  for (let sent = 0; sent < RECORDS; sent += 1000)
    await producer.send({
      topic: TOPIC,
      acks: -1,
      messages: Array.from({ length: Math.min(1000, RECORDS - sent) }, () => ({ value })),
    });
  const produceSeconds = (performance.now() - produceStart) / 1000;
  await producer.disconnect();

  const rows: string[] = [];
  const mb = (RECORDS * RECORD) / 1e6;
  rows.push(
    `| produce (kafkajs, acks=all, reference) | ${RECORDS} | ${produceSeconds.toFixed(1)} | ${(mb / produceSeconds).toFixed(1)} |`,
  );
  for (const [bucket, tasksMax] of [
    ['one-task', 1],
    ['three-tasks', 3],
  ] as const) {
    const start = performance.now();
    const c = await client.call('POST', `/v1/instances/${instanceId}/connectors`, {
      name: bucket,
      type: 's3-sink',
      tasksMax,
      config: {
        topics: [TOPIC],
        bucket,
        endpoint: s3.endpoint,
        forcePathStyle: true,
        rollBytes: 16 * 1024 * 1024,
        rollSeconds: 2,
      },
      secrets: { ...S3RVER_CREDENTIALS },
    });
    if (c.status !== 201) throw new Error(`connector: ${JSON.stringify(c.body)}`);
    for (;;) {
      const o = await client.call('GET', `/v1/instances/${instanceId}/connectors/${c.body.id}/offsets`);
      const done = (o.body.partitions as { offset: number }[]).reduce((n, p) => n + p.offset, 0);
      if (done >= RECORDS) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const seconds = (performance.now() - start) / 1000;
    rows.push(
      `| S3 sink, ${tasksMax} task(s) | ${RECORDS} | ${seconds.toFixed(1)} | ${(mb / seconds).toFixed(1)} |`,
    );
  }
  console.log(
    `\n${MIB} MiB of ${RECORD} B records, load average before: ${loadBefore}, after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  console.log('| run | records | seconds | MB/s |\n| --- | ---: | ---: | ---: |');
  for (const r of rows) console.log(r);
} finally {
  for (const w of workers) await stopConnectWorker(w, 'SIGTERM');
  await s3.close();
  await s.close();
}
