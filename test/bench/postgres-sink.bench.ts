/**
 * PostgreSQL sink throughput: a managed 1-broker instance, a 3-partition topic preloaded with
 * FJORD_BENCH_PG_RECORDS JSON records (~100 B: id, name, amount, tags; keys `k<i % 10000>`) by kafkajs
 * (acks=all; its rate is printed as the reference), then PostgreSQL sink connectors into a fresh
 * database on 127.0.0.1:5432 (auto-created tables): insert mode with 1 and 3 tasks, upsert mode
 * (10,000 keys) with 3 tasks, each timed from creation until every record is committed.
 * Run: `npx tsx test/bench/postgres-sink.bench.ts` (FJORD_BENCH_PG_RECORDS, default 100000).
 */
import { loadavg } from 'node:os';
import { connectorApiOverrides, startConnectWorker, stopConnectWorker } from '@fjord/test-support/connect';
import { instanceWithTopic, startTestService } from '@fjord/test-support/service';
import kafkajs from 'kafkajs';
import pg from 'pg';

const RECORDS = Number(process.env.FJORD_BENCH_PG_RECORDS ?? 100_000);
const KEYS = 10_000;
const TOPIC = 'bench';
const DATABASE = `fjord_bench_pgsink_${process.pid}`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadBefore = load();

const adminQuery = async (sql: string) => {
  const c = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
};

const s = await startTestService(1, {}, connectorApiOverrides);
await adminQuery(`CREATE DATABASE ${DATABASE}`);
const workers = [
  startConnectWorker(s.t.databaseUrl, 'bench-a'),
  startConnectWorker(s.t.databaseUrl, 'bench-b'),
];
const target = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: DATABASE });
await target.connect();
try {
  const { client } = await s.t.tenant('pg-sink-bench');
  const { instanceId, bootstrap } = await instanceWithTopic(client, TOPIC, 3);

  const producer = new kafkajs.Kafka({
    brokers: bootstrap.split(','),
    logLevel: kafkajs.logLevel.NOTHING,
  }).producer();
  await producer.connect();
  const produceStart = performance.now();
  for (let sent = 0; sent < RECORDS; sent += 1000)
    await producer.send({
      topic: TOPIC,
      acks: -1,
      messages: Array.from({ length: Math.min(1000, RECORDS - sent) }, (_, j) => {
        const i = sent + j;
        return {
          key: `k${i % KEYS}`,
          value: JSON.stringify({ seq: i, name: `customer-${i % 977}`, amount: i * 0.5, tags: ['a', 'b'] }),
        };
      }),
    });
  const produceSeconds = (performance.now() - produceStart) / 1000;
  await producer.disconnect();

  const rows: string[] = [
    `| produce (kafkajs, acks=all, reference) | ${RECORDS} | ${produceSeconds.toFixed(1)} | ${Math.round(RECORDS / produceSeconds)} |`,
  ];
  for (const [name, mode, tasksMax] of [
    ['insert_one', 'insert', 1],
    ['insert_three', 'insert', 3],
    ['upsert_three', 'upsert', 3],
  ] as const) {
    const start = performance.now();
    const c = await client.call('POST', `/v1/instances/${instanceId}/connectors`, {
      name: name.replace('_', '-'),
      type: 'postgres-sink',
      tasksMax,
      config: {
        topics: [TOPIC],
        connection: { host: '127.0.0.1', port: 5432, database: DATABASE, user: 'postgres' },
        table: name,
        mode,
        autoCreate: true,
      },
    });
    if (c.status !== 201) throw new Error(`connector: ${JSON.stringify(c.body)}`);
    for (;;) {
      const o = await client.call('GET', `/v1/instances/${instanceId}/connectors/${c.body.id}/offsets`);
      const done = (o.body.partitions as { offset: number }[]).reduce((n, p) => n + p.offset, 0);
      if (done >= RECORDS) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const seconds = (performance.now() - start) / 1000;
    const count = (await target.query(`SELECT count(*)::int AS n FROM ${name}`)).rows[0].n as number;
    const expected = mode === 'insert' ? RECORDS : Math.min(KEYS, RECORDS);
    if (count !== expected) throw new Error(`${name}: ${count} rows, expected ${expected}`);
    rows.push(
      `| PostgreSQL sink, ${mode}, ${tasksMax} task(s) | ${RECORDS} | ${seconds.toFixed(1)} | ${Math.round(RECORDS / seconds)} |`,
    );
    // Its tasks stop before the next run, which then has the workers' cores to itself.
    await client.call('DELETE', `/v1/instances/${instanceId}/connectors/${c.body.id}`);
  }
  console.log(`\n${RECORDS} JSON records, load average before: ${loadBefore}, after: ${load()}\n`);
  console.log('| run | records | seconds | records/s |\n| --- | ---: | ---: | ---: |');
  for (const r of rows) console.log(r);
} finally {
  await target.end();
  for (const w of workers) await stopConnectWorker(w, 'SIGTERM');
  await s.close();
  await adminQuery(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
}
