/**
 * Object-storage sink throughput: a managed 1-broker instance, a 3-partition topic preloaded with
 * FJORD_BENCH_SINK_MIB MiB of 1 KiB JSON records of varied words (kafkajs, acks=all; its rate is printed as the
 * reference), then S3 sink connectors (s3rver on this machine, 16 MiB objects) in each format (JSON
 * lines gzip, Parquet) with 1 task and with 3 tasks on two connect workers, one after another, each
 * timed from creation until every record is committed. MB/s counts record values; MB stored
 * is the objects' total size.
 * Run: `npx tsx test/bench/s3-sink.bench.ts` (FJORD_BENCH_SINK_MIB, default 64).
 */
import { loadavg } from 'node:os';
import { connectorApiOverrides, startConnectWorker, stopConnectWorker } from '@fjord/test-support/connect';
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

const s = await startTestService(1, {}, connectorApiOverrides);
const RUNS = [
  { bucket: 'jsonl-one-task', format: 'jsonl.gz', tasksMax: 1 },
  { bucket: 'jsonl-three-tasks', format: 'jsonl.gz', tasksMax: 3 },
  { bucket: 'parquet-one-task', format: 'parquet', tasksMax: 1 },
  { bucket: 'parquet-three-tasks', format: 'parquet', tasksMax: 3 },
] as const;
const s3 = await startTestS3(RUNS.map((r) => r.bucket));
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
  // Values differ, as real ones do (identical ones would let Parquet's dictionary keep one copy):
  // JSON with a sequence number and words picked by a fixed pseudo-random sequence, 1 KiB each.
  const WORDS =
    'order paid shipped cart user item price total refund alpha beta gamma delta north south east west'.split(
      ' ',
    );
  let seed = 42;
  const nextWord = () => {
    // xorshift32: the same words on every run
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return WORDS[(seed >>> 0) % WORDS.length];
  };
  const recordValue = (i: number) => {
    let text = '';
    while (text.length < RECORD) text += `${nextWord()} `;
    const head = `{"seq":${i},"text":"${text}`.slice(0, RECORD - 2);
    return Buffer.from(`${head}"}`);
  };
  const produceStart = performance.now();
  for (let sent = 0; sent < RECORDS; sent += 1000)
    await producer.send({
      topic: TOPIC,
      acks: -1,
      messages: Array.from({ length: Math.min(1000, RECORDS - sent) }, (_, i) => ({
        value: recordValue(sent + i),
      })),
    });
  const produceSeconds = (performance.now() - produceStart) / 1000;
  await producer.disconnect();

  const rows: string[] = [];
  const mb = (RECORDS * RECORD) / 1e6;
  rows.push(
    `| produce (kafkajs, acks=all, reference) | ${RECORDS} | ${produceSeconds.toFixed(1)} | ${(mb / produceSeconds).toFixed(1)} | |`,
  );
  for (const { bucket, format, tasksMax } of RUNS) {
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
        format,
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
    const stored = (await s3.objects(bucket)).reduce((n, o) => n + o.bytes.length, 0) / 1e6;
    rows.push(
      `| S3 sink, ${format}, ${tasksMax} task(s) | ${RECORDS} | ${seconds.toFixed(1)} | ${(mb / seconds).toFixed(1)} | ${stored.toFixed(1)} |`,
    );
  }
  console.log(
    `\n${MIB} MiB of ${RECORD} B records, load average before: ${loadBefore}, after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  console.log('| run | records | seconds | MB/s | MB stored |\n| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(r);
} finally {
  for (const w of workers) await stopConnectWorker(w, 'SIGTERM');
  await s3.close();
  await s.close();
}
