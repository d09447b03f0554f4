import { type ChildProcess, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { isDeepStrictEqual, promisify } from 'node:util';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { RestClient } from '@fjord/test-support/api';
import { connectorApiOverrides, startConnectWorker, stopConnectWorker } from '@fjord/test-support/connect';
import { readParquetRows } from '@fjord/test-support/parquet';
import { S3RVER_CREDENTIALS, startTestS3, type TestS3 } from '@fjord/test-support/s3';
import { startTestService, type TestService, waitForOperation } from '@fjord/test-support/service';
import { Consumer } from '@platformatic/kafka';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The connector runtime end to end: a 1-broker instance, two connect worker processes, a real
 * S3-compatible server (s3rver), a kafkajs producer. The S3 sink must put every record in exactly one
 * object, also when the worker running a task is killed with SIGKILL mid-run and the other one takes
 * the task over.
 */
const TOPIC = 'events';
const BUCKET = 'sink';
const INTERNAL_TOKEN = 'connectors-internal-token';

let s: TestService;
let s3: TestS3;
let client: RestClient;
let instanceId: string;
let bootstrap: string;
const workers = new Map<string, ChildProcess>();

beforeAll(async () => {
  s = await startTestService(1, {}, { internalToken: INTERNAL_TOKEN, ...connectorApiOverrides });
  client = (await s.t.tenant('connect')).client;
  const created = await client.call('POST', '/v1/instances', {
    name: 'src',
    zones: ['az-1'],
    brokerCount: 1,
  });
  expect(created.status).toBe(202);
  instanceId = created.body.instance.id;
  expect((await waitForOperation(client, created.body.operation.id, 120_000)).status).toBe('succeeded');
  const ins = (await client.call('GET', `/v1/instances/${instanceId}`)).body;
  bootstrap = ins.bootstrapServers.find((b: { route: string }) => b.route === 'internal').servers;
  const topic = await client.call('POST', `/v1/instances/${instanceId}/topics`, {
    name: TOPIC,
    partitions: 3,
  });
  expect((await waitForOperation(client, topic.body.operation.id, 120_000)).status).toBe('succeeded');
  s3 = await startTestS3([BUCKET]);
  for (const id of ['connect-a', 'connect-b']) workers.set(id, startConnectWorker(s.t.databaseUrl, id));
}, 240_000);

afterAll(async () => {
  for (const w of workers.values()) await stopConnectWorker(w, 'SIGKILL');
  await s3?.close();
  await s?.close();
});

async function eventually<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const connectorPath = (id: string) => `/v1/instances/${instanceId}/connectors/${id}`;

interface TaskView {
  task: number;
  state: string;
  reason: string | null;
  workerId: string | null;
}
const tasksOf = async (id: string): Promise<TaskView[]> =>
  (await client.call('GET', connectorPath(id))).body.tasks;
const deliveredOf = async (id: string): Promise<number> =>
  (await client.call('GET', `${connectorPath(id)}/offsets`)).body.partitions.reduce(
    (n: number, p: { offset: number }) => n + p.offset,
    0,
  );

/** A database of its own for a sink test to write into, connected; `drop` closes and removes it. */
async function targetDatabase(prefix: string) {
  const server = { host: '127.0.0.1', port: 5432, user: 'postgres' };
  const database = `${prefix}_${Date.now().toString(36)}_${process.pid}`;
  const admin = new pg.Client({ ...server, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const target = new pg.Client({ ...server, database });
  await target.connect();
  return {
    database,
    target,
    async drop() {
      await target.end();
      const c = new pg.Client({ ...server, database: 'postgres' });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** An idempotent acks=all kafkajs producer of `v<i>` values keyed `k<i>`, with a header. */
async function producer() {
  const kafka = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING });
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  let next = 0;
  return {
    async send(n: number) {
      const messages = Array.from({ length: n }, (_, i) => ({
        key: `k${next + i}`,
        value: `v${next + i}`,
        headers: { source: 'e2e' },
      }));
      await p.send({ topic: TOPIC, acks: -1, messages });
      next += n;
    },
    get sent() {
      return next;
    },
    disconnect: () => p.disconnect(),
  };
}

interface Line {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string;
  value: string;
  headers: [string, string][];
}

const KEY = /^topic=events\/partition=(\d)\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/(\d{20})-(\d{20})\.jsonl\.gz$/;

describe('connect workers', () => {
  it("are found by Prometheus's discovery, with their metrics where it says", async () => {
    const groups = await eventually('both workers in the discovery', 30_000, async () => {
      const r = await fetch(`${s.t.api.url}/internal/prometheus/targets?kind=connect`, {
        headers: { authorization: `Bearer ${INTERNAL_TOKEN}` },
      });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { targets: string[]; labels: Record<string, string> }[];
      return body.filter((g) => g.targets.length > 0).length === 2 ? body : undefined;
    });
    expect(groups.map((g) => g.labels.worker).filter(Boolean)).toEqual(['connect-a', 'connect-b']);
    for (const g of groups.filter((x) => x.targets.length > 0)) {
      const metrics = await (await fetch(`http://${g.targets[0]}/metrics`)).text();
      expect(metrics).toContain('fjord_connect_tasks_held');
    }
  });
});

describe('S3 sink connector', () => {
  it('puts every record in exactly one object through a kill -9 of the worker running a task', async () => {
    const created = await client.call('POST', `/v1/instances/${instanceId}/connectors`, {
      name: 'archive',
      type: 's3-sink',
      tasksMax: 2,
      config: {
        topics: [TOPIC],
        bucket: BUCKET,
        endpoint: s3.endpoint,
        forcePathStyle: true,
        rollRecords: 150,
        rollSeconds: 1,
      },
      secrets: S3RVER_CREDENTIALS,
    });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    await eventually('both tasks running', 60_000, async () => {
      const tasks = await tasksOf(id);
      return tasks.every((t) => t.state === 'RUNNING') ? tasks : undefined;
    });

    const N = 4000;
    const p = await producer();
    while (p.sent < N / 2) await p.send(100);
    // Mid-run: objects are being written while records keep coming.
    await eventually('objects written', 60_000, async () => ((await deliveredOf(id)) > 0 ? true : undefined));
    const victim = (await tasksOf(id))[0]!.workerId!;
    const survivor = victim === 'connect-a' ? 'connect-b' : 'connect-a';
    const sending = (async () => {
      while (p.sent < N) await p.send(100);
    })();
    await stopConnectWorker(workers.get(victim)!, 'SIGKILL');
    await sending;
    await p.disconnect();

    await eventually('every record delivered', 120_000, async () =>
      (await deliveredOf(id)) === N ? true : undefined,
    );
    const tasks = await tasksOf(id);
    expect(tasks.map((t) => [t.state, t.workerId])).toEqual([
      ['RUNNING', survivor],
      ['RUNNING', survivor],
    ]);

    const objects = await s3.objects(BUCKET);
    const seen = new Set<string>();
    const values = new Set<string>();
    for (const o of objects) {
      const m = KEY.exec(o.key);
      expect(m, o.key).not.toBeNull();
      const lines = o.text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Line);
      // An object holds exactly the range its name says (no compaction here, so no gaps).
      expect(lines.map((l) => l.offset)).toEqual(
        Array.from({ length: Number(m![3]) - Number(m![2]) + 1 }, (_, i) => Number(m![2]) + i),
      );
      for (const l of lines) {
        expect(l.partition).toBe(Number(m![1]));
        expect(l.key).toBe(`k${l.value.slice(1)}`);
        expect(l.headers).toEqual([['source', Buffer.from('e2e').toString('base64')]]);
        const where = `${l.partition}/${l.offset}`;
        expect(seen.has(where), `duplicate ${where}`).toBe(false);
        seen.add(where);
        values.add(l.value);
      }
    }
    expect(seen.size).toBe(N);
    expect(values).toEqual(new Set(Array.from({ length: N }, (_, i) => `v${i}`)));
  }, 300_000);

  it('a task resumed from a range named before a crash writes that object again under the same name', async () => {
    const id = (await client.call('GET', `/v1/instances/${instanceId}/connectors`)).body.items[0].id;
    expect((await client.call('POST', `${connectorPath(id)}/pause`)).status).toBe(200);
    await eventually('tasks paused', 30_000, async () =>
      (await tasksOf(id)).every((t) => t.state === 'PAUSED') ? true : undefined,
    );
    const before = await s3.objects(BUCKET);
    // The state a crash leaves between naming an object and committing past it: the partition's
    // last object's range pending, the offset at its start. Partition 0: the object was written
    // (crash after the PUT); partition 1: it was not (crash before the PUT).
    const lastOf = (partition: number) => {
      const mine = before.filter((o) => KEY.exec(o.key)![1] === String(partition));
      const last = mine[mine.length - 1]!;
      const m = KEY.exec(last.key)!;
      return { key: last.key, first: BigInt(m[2]!), last: BigInt(m[3]!) };
    };
    const p0 = lastOf(0);
    const p1 = lastOf(1);
    for (const [partition, o] of [
      [0, p0],
      [1, p1],
    ] as const)
      await s.t.prisma.connectorOffset.update({
        where: { connectorId_topic_partition: { connectorId: id, topic: TOPIC, partition } },
        data: { offset: o.first, pendingFirst: o.first, pendingLast: o.last },
      });
    await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: p1.key }));
    // Records that came after the crash: without the pending range they would join the rewritten
    // object and give it another name, overlapping the first one.
    const kafka = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING });
    const extra = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await extra.connect();
    for (const partition of [0, 1])
      await extra.send({
        topic: TOPIC,
        acks: -1,
        messages: Array.from({ length: 40 }, (_, i) => ({
          partition,
          key: `x${i}`,
          value: `x${partition}-${i}`,
        })),
      });
    await extra.disconnect();
    expect((await client.call('POST', `${connectorPath(id)}/resume`)).status).toBe(200);
    await eventually('progress committed past the new records', 60_000, async () => {
      const rows = await s.t.prisma.connectorOffset.findMany({
        where: { connectorId: id, partition: { in: [0, 1] } },
      });
      return rows.every((r) => r.pendingFirst === null) &&
        rows.find((r) => r.partition === 0)!.offset === p0.last + 41n &&
        rows.find((r) => r.partition === 1)!.offset === p1.last + 41n
        ? true
        : undefined;
    });
    const after = await s3.objects(BUCKET);
    const keys = after.map((o) => o.key);
    expect(keys).toEqual(expect.arrayContaining(before.map((o) => o.key)));
    expect(after.find((o) => o.key === p1.key)!.text).toBe(before.find((o) => o.key === p1.key)!.text);
    const seen = new Set<string>();
    for (const o of after)
      for (const l of o.text.split('\n').filter(Boolean)) {
        const { partition, offset } = JSON.parse(l) as Line;
        expect(seen.has(`${partition}/${offset}`), `duplicate ${partition}/${offset} in ${o.key}`).toBe(
          false,
        );
        seen.add(`${partition}/${offset}`);
      }
    expect(seen.size).toBe(before.reduce((n, o) => n + o.text.split('\n').filter(Boolean).length, 0) + 80);
  }, 120_000);

  it('pauses without delivering, resumes where it stopped; a sink it cannot write to shows FAILED with the reason', async () => {
    const id = (await client.call('GET', `/v1/instances/${instanceId}/connectors`)).body.items[0].id;
    const before = await deliveredOf(id);
    expect((await client.call('POST', `${connectorPath(id)}/pause`)).status).toBe(200);
    await eventually('tasks paused', 30_000, async () =>
      (await tasksOf(id)).every((t) => t.state === 'PAUSED') ? true : undefined,
    );
    const p = await producer();
    await p.send(100);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await deliveredOf(id)).toBe(before);
    expect((await client.call('POST', `${connectorPath(id)}/resume`)).status).toBe(200);
    await eventually('resumed delivery', 60_000, async () =>
      (await deliveredOf(id)) === before + 100 ? true : undefined,
    );
    await p.disconnect();

    const broken = await client.call('POST', `/v1/instances/${instanceId}/connectors`, {
      name: 'nowhere',
      type: 's3-sink',
      config: {
        topics: [TOPIC],
        bucket: 'no-such-bucket',
        endpoint: s3.endpoint,
        forcePathStyle: true,
        rollSeconds: 1,
      },
      secrets: S3RVER_CREDENTIALS,
    });
    expect(broken.status, JSON.stringify(broken.body)).toBe(201);
    const failed = await eventually('the task failed', 60_000, async () => {
      const t = (await tasksOf(broken.body.id))[0]!;
      return t.state === 'FAILED' ? t : undefined;
    });
    expect(failed.reason).toMatch(/bucket does not exist/);
    // Retried with backoff, it stays FAILED (the reason kept) while the sink refuses it.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await tasksOf(broken.body.id))[0]).toMatchObject({ state: 'FAILED', reason: failed.reason });
    expect((await client.call('GET', connectorPath(broken.body.id))).body.state).toBe('FAILED');
    expect((await client.call('DELETE', connectorPath(broken.body.id))).status).toBe(204);
  }, 180_000);

  it('writes Parquet rows equal to the records; records it cannot place go to the dead-letter topic or fail it', async () => {
    const IN = 's3-mixed';
    const DLQ = 's3-dlq';
    await Promise.all(
      [IN, DLQ].map(async (name) => {
        const t = await client.call('POST', `/v1/instances/${instanceId}/topics`, { name, partitions: 1 });
        expect((await waitForOperation(client, t.body.operation.id, 120_000)).status).toBe('succeeded');
      }),
    );
    const t0 = Date.UTC(2026, 11, 5, 10, 0, 0);
    // Text and raw bytes, a null key, a tombstone, an empty value, repeated and binary headers.
    const good: { key: Buffer | null; value: Buffer | null; headers: [string, Buffer][] }[] = [
      { key: Buffer.from('k0'), value: Buffer.from('{"n":0}'), headers: [] },
      { key: null, value: Buffer.from([0xff, 0x00, 0x80]), headers: [['bin', Buffer.from([0x80])]] },
      {
        key: Buffer.from([0xc3]),
        value: null,
        headers: [
          ['h', Buffer.from('a')],
          ['h', Buffer.from('b')],
        ],
      },
      { key: Buffer.from('k3'), value: Buffer.alloc(0), headers: [] },
    ];
    // kafkajs takes headers as an object: a repeated name is an array of its values, in order.
    const kafkajsHeaders = (hs: [string, Buffer][]) => {
      const out: Record<string, Buffer[]> = {};
      for (const [k, v] of hs) out[k] = [...(out[k] ?? []), v];
      return out;
    };
    const kafka = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING });
    const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await p.connect();
    const sendGood = (i: number) =>
      p.send({
        topic: IN,
        acks: -1,
        messages: [
          {
            key: good[i]!.key,
            value: good[i]!.value,
            timestamp: String(t0 + i),
            headers: kafkajsHeaders(good[i]!.headers),
          },
        ],
      });
    // Offsets 0, 1: good; 2: no timestamp (-1); 3: good; 4: year 10000; 5: good.
    await sendGood(0);
    await sendGood(1);
    await p.send({ topic: IN, acks: -1, messages: [{ key: 'p2', value: 'no time', timestamp: '-1' }] });
    await sendGood(2);
    const year10000 = String(Date.UTC(10000, 0, 1));
    await p.send({ topic: IN, acks: -1, messages: [{ key: 'p4', value: 'far', timestamp: year10000 }] });
    await sendGood(3);
    await p.disconnect();

    const create = async (name: string, config: Record<string, unknown>) => {
      const r = await client.call('POST', `/v1/instances/${instanceId}/connectors`, {
        name,
        type: 's3-sink',
        config: {
          topics: [IN],
          bucket: BUCKET,
          endpoint: s3.endpoint,
          forcePathStyle: true,
          rollSeconds: 1,
          ...config,
        },
        secrets: S3RVER_CREDENTIALS,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.id as string;
    };
    const columnar = await create('columnar', {
      prefix: 'parquet/',
      format: 'parquet',
      errors: { tolerance: 'all', deadLetterTopic: DLQ },
    });
    const strict = await create('strict', { prefix: 'strict/' });

    // errors.tolerance none (the default): the first record it cannot place fails the task, naming it.
    const failed = await eventually('the strict task failed', 60_000, async () => {
      const t = (await tasksOf(strict))[0]!;
      return t.state === 'FAILED' ? t : undefined;
    });
    expect(failed.reason).toMatch(/^record s3-mixed\/0@2: the record has no timestamp \(-1\)/);

    await eventually('every record passed', 60_000, async () =>
      (await deliveredOf(columnar)) === 6 ? true : undefined,
    );
    const objects = (await s3.objects(BUCKET)).filter((o) => o.key.startsWith('parquet/'));
    for (const o of objects)
      expect(o.key).toMatch(
        /^parquet\/topic=s3-mixed\/partition=0\/dt=2026-12-05\/hour=10\/\d{20}-\d{20}\.parquet$/,
      );
    const rows = objects.flatMap((o) => readParquetRows(o.bytes)).map(({ columns: _, ...r }) => r);
    expect(rows).toEqual(
      good.map((g, i) => ({
        topic: IN,
        partition: 0,
        offset: BigInt([0, 1, 3, 5][i]!),
        timestamp: t0 + i,
        key: g.key,
        value: g.value,
        headers: g.headers,
      })),
    );
    // Nothing of the strict connector's was written: it failed before closing an object.
    expect((await s3.objects(BUCKET)).filter((o) => o.key.startsWith('strict/'))).toEqual([]);

    // kcat reads the dead-letter topic from the start (no group to join), as JSON with its headers.
    const kcatOut = await promisify(execFile)(
      'kcat',
      ['-b', bootstrap, '-C', '-t', DLQ, '-o', 'beginning', '-c', '2', '-e', '-J', '-m', '30'],
      { timeout: 60_000 },
    );
    const dead = kcatOut.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const m = JSON.parse(l) as { key: string; payload: string; headers: string[] };
        const headers: Record<string, string> = {};
        for (let i = 0; i < m.headers.length; i += 2) headers[m.headers[i]!] = m.headers[i + 1]!;
        return { key: m.key, value: m.payload, headers };
      });
    expect(dead.map((d) => [d.key, d.value, d.headers['__connect.errors.offset']])).toEqual([
      ['p2', 'no time', '2'],
      ['p4', 'far', '4'],
    ]);
    for (const d of dead)
      expect(d.headers).toMatchObject({
        '__connect.errors.topic': IN,
        '__connect.errors.partition': '0',
        '__connect.errors.connector.name': 'columnar',
        '__connect.errors.task.id': '0',
        '__connect.errors.stage': 'TASK_PUT',
        '__connect.errors.class.name': 'S3SinkTask',
        '__connect.errors.exception.class.name': 'PartitionException',
      });
    expect(dead[1]!.headers['__connect.errors.exception.message']).toMatch(
      new RegExp(`timestamp ${year10000} names no hour`),
    );

    // Exactly once holds for Parquet too: the state a crash leaves after naming the last object's range
    // (offset at its start, range pending, object gone) makes the same object again, byte for byte.
    expect((await client.call('POST', `${connectorPath(columnar)}/pause`)).status).toBe(200);
    await eventually('columnar paused', 30_000, async () =>
      (await tasksOf(columnar)).every((t) => t.state === 'PAUSED') ? true : undefined,
    );
    const last = objects[objects.length - 1]!;
    const [, first, lastOffset] = /(\d{20})-(\d{20})\.parquet$/.exec(last.key)!;
    const where = { connectorId_topic_partition: { connectorId: columnar, topic: IN, partition: 0 } };
    await s.t.prisma.connectorOffset.update({
      where,
      data: { offset: BigInt(first!), pendingFirst: BigInt(first!), pendingLast: BigInt(lastOffset!) },
    });
    await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: last.key }));
    expect((await client.call('POST', `${connectorPath(columnar)}/resume`)).status).toBe(200);
    await eventually('the pending range written again', 60_000, async () => {
      const row = await s.t.prisma.connectorOffset.findUnique({ where });
      return row?.pendingFirst === null && row.offset === 6n ? true : undefined;
    });
    const again = (await s3.objects(BUCKET)).find((o) => o.key === last.key);
    expect(again?.bytes.equals(last.bytes)).toBe(true);
    for (const id of [columnar, strict])
      expect((await client.call('DELETE', connectorPath(id))).status).toBe(204);
  }, 180_000);
});

describe('mirror connector', () => {
  /** A second 1-broker instance, the mirrors' other cluster (made once, for the tests that need it). */
  let upstream: Promise<{ id: string; bootstrap: string }> | undefined;
  const upstreamInstance = () => {
    upstream ??= (async () => {
      const src = await client.call('POST', '/v1/instances', {
        name: 'upstream',
        zones: ['az-1'],
        brokerCount: 1,
      });
      expect(src.status).toBe(202);
      expect((await waitForOperation(client, src.body.operation.id, 120_000)).status).toBe('succeeded');
      const id: string = src.body.instance.id;
      const bootstrap: string = (await client.call('GET', `/v1/instances/${id}`)).body.bootstrapServers.find(
        (b: { route: string }) => b.route === 'internal',
      ).servers;
      return { id, bootstrap };
    })();
    return upstream;
  };
  const clusterIdOf = async (servers: string): Promise<string> => {
    const admin = new kafkajs.Kafka({
      brokers: servers.split(','),
      logLevel: kafkajs.logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      return (await admin.describeCluster()).clusterId;
    } finally {
      await admin.disconnect();
    }
  };

  it('copies the selected topics from another cluster: partitions, configs, keys, values, headers and timestamps', async () => {
    const { id: srcId, bootstrap: srcBootstrap } = await upstreamInstance();
    for (const body of [
      { name: 'orders', partitions: 2, configs: { 'retention.ms': '3600000' } },
      { name: 'scratch', partitions: 1 },
    ]) {
      const t = await client.call('POST', `/v1/instances/${srcId}/topics`, body);
      expect((await waitForOperation(client, t.body.operation.id, 120_000)).status).toBe('succeeded');
    }
    const kafka = new kafkajs.Kafka({ brokers: [srcBootstrap], logLevel: kafkajs.logLevel.NOTHING });
    const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await p.connect();
    const N = 300;
    const base = Date.UTC(2026, 0, 1);
    const produced = Array.from({ length: N }, (_, i) => ({
      partition: i % 2,
      key: `k${i}`,
      value: `v${i}`,
      timestamp: String(base + i),
      headers: { trace: `t${i}`, origin: 'upstream' },
    }));
    await p.send({ topic: 'orders', acks: -1, messages: produced });
    await p.send({ topic: 'scratch', acks: -1, messages: [{ value: 'not copied' }] });
    // A committed transaction leaves a marker in each partition, so from there on the source's
    // offsets run one ahead of the target's: consumer-group offsets must be translated.
    const more = (name: string, at: number) =>
      [0, 1].flatMap((partition) =>
        Array.from({ length: name === 'tx' ? 5 : 10 }, (_, i) => ({
          partition,
          key: `${name}${partition}-${i}`,
          value: `${name}${partition}-${i}`,
          timestamp: String(base + at + i),
          headers: { trace: `${name}${i}`, origin: 'upstream' },
        })),
      );
    const inTransaction = more('tx', 1000);
    const afterTransaction = more('after', 2000);
    const txp = kafka.producer({ transactionalId: 'upstream-tx', idempotent: true, maxInFlightRequests: 1 });
    await txp.connect();
    const tx = await txp.transaction();
    await tx.send({ topic: 'orders', messages: inTransaction });
    await tx.commit();
    await txp.disconnect();
    await p.send({ topic: 'orders', acks: -1, messages: afterTransaction });
    await p.disconnect();
    const all = [...produced, ...inTransaction, ...afterTransaction];
    // Per partition on the source: 150 records (0-149), 5 in the transaction (150-154), its marker
    // (155), 10 after it (156-165). A group there has read up to after<p>-2 (source offset 158).
    const SOURCE_END = 166;
    const srcAdmin = kafka.admin();
    await srcAdmin.connect();
    await srcAdmin.setOffsets({
      groupId: 'mig-app',
      topic: 'orders',
      partitions: [0, 1].map((partition) => ({ partition, offset: '158' })),
    });
    await srcAdmin.disconnect();

    const created = await client.call('POST', `/v1/instances/${instanceId}/connectors`, {
      name: 'from-upstream',
      type: 'mirror',
      config: {
        source: { bootstrapServers: srcBootstrap.split(',') },
        topicsInclude: ['orders', 'scr.*'],
        topicsExclude: ['scratch'],
        groupsInclude: ['mig-.*'],
        checkpointIntervalMs: 1000,
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id: string = created.body.id;
    await eventually('every record mirrored', 120_000, async () =>
      (await deliveredOf(id)) === 2 * SOURCE_END ? true : undefined,
    );
    const target = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING });
    // The group's source offset 158 (the next record after<p>-2) becomes that record's target offset,
    // checked below against where it landed (transactions leave markers, and a retried round aborted
    // records, between target offsets).
    const topics = (await client.call('GET', `/v1/instances/${instanceId}/topics`)).body.items as {
      name: string;
      partitions: number;
      configs: Record<string, string>;
    }[];
    expect(topics.map((t) => t.name)).not.toContain('scratch');
    expect(topics.find((t) => t.name === 'orders')).toMatchObject({
      partitions: 2,
      configs: { 'retention.ms': '3600000' },
    });

    const consumer = target.consumer({ groupId: 'mirror-check' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    const got: {
      partition: number;
      offset: string;
      key: string;
      value: string;
      timestamp: string;
      headers: Record<string, string>;
    }[] = [];
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        got.push({
          partition,
          offset: message.offset,
          key: String(message.key),
          value: String(message.value),
          timestamp: message.timestamp,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        });
      },
    });
    await eventually('target consumed', 60_000, async () => (got.length >= all.length ? true : undefined));
    await consumer.disconnect();
    expect(got).toHaveLength(all.length);
    const sourceClusterId = await clusterIdOf(srcBootstrap);
    for (const partition of [0, 1]) {
      const want = all.filter((m) => m.partition === partition);
      const have = got
        .filter((m) => m.partition === partition)
        .sort((a, b) => Number(a.offset) - Number(b.offset));
      // Headers as they were, then the provenance path: the source cluster.
      expect(have.map(({ key, value, timestamp, headers }) => ({ key, value, timestamp, headers }))).toEqual(
        want.map(({ key, value, timestamp, headers }) => ({
          key,
          value,
          timestamp,
          headers: { ...headers, '__fjord.mirror.path': sourceClusterId },
        })),
      );
    }
    // A checkpoint taken while copying was still under way translates to an earlier target offset
    // (never a later one); the next checkpoints after the copy must land exactly on the record.
    const wanted = new Map(
      [0, 1].map((q) => [q, got.find((m) => m.partition === q && m.value === `after${q}-2`)!.offset]),
    );
    const targetAdmin = target.admin();
    await targetAdmin.connect();
    let translated = new Map<number, string>();
    await eventually('the group offsets translated onto the target', 60_000, async () => {
      const [topic] = await targetAdmin.fetchOffsets({ groupId: 'mig-app', topics: ['orders'] });
      translated = new Map((topic?.partitions ?? []).map((x) => [x.partition, x.offset]));
      for (const [q, offset] of translated) expect(Number(offset)).toBeLessThanOrEqual(Number(wanted.get(q)));
      return [0, 1].every((q) => translated.get(q) === wanted.get(q)) ? true : undefined;
    }).catch((e: unknown) => {
      throw new Error(
        `${(e as Error).message}: ${JSON.stringify([...translated])}, wanted ${JSON.stringify([...wanted])}`,
      );
    });
    await targetAdmin.disconnect();

    // The application moved to the target resumes where it left off on the source.
    const moved = target.consumer({ groupId: 'mig-app' });
    await moved.connect();
    await moved.subscribe({ topic: 'orders' });
    const resumed: string[] = [];
    await moved.run({
      eachMessage: async ({ message }) => {
        resumed.push(String(message.value));
      },
    });
    const expected = afterTransaction.filter((m) => Number(m.value.split('-')[1]) >= 2).map((m) => m.value);
    await eventually('the moved group consumed', 60_000, async () =>
      resumed.length >= expected.length ? true : undefined,
    );
    await moved.disconnect();
    expect(resumed.sort()).toEqual(expected.sort());
  }, 300_000);

  it('an exactly-once mirror rewound by PUT offsets copies again from there, and a later restart does not rewind again', async () => {
    const { id: srcId, bootstrap: srcBootstrap } = await upstreamInstance();
    const REWIND = 'rewind';
    const t = await client.call('POST', `/v1/instances/${srcId}/topics`, { name: REWIND, partitions: 1 });
    expect((await waitForOperation(client, t.body.operation.id, 120_000)).status).toBe('succeeded');
    const kafka = new kafkajs.Kafka({ brokers: [srcBootstrap], logLevel: kafkajs.logLevel.NOTHING });
    const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await p.connect();
    const send = (from: number, to: number) =>
      p.send({
        topic: REWIND,
        acks: -1,
        messages: Array.from({ length: to - from }, (_, i) => ({
          key: `r${from + i}`,
          value: `r${from + i}`,
        })),
      });
    const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `r${from + i}`);
    await send(0, 20);
    const created = await client.call('POST', `/v1/instances/${instanceId}/connectors`, {
      name: 'rewinder',
      type: 'mirror',
      config: { source: { bootstrapServers: srcBootstrap.split(',') }, topicsInclude: [REWIND] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id: string = created.body.id;
    /** The target's records in order, as a read_committed consumer sees them. */
    const onTarget = async (): Promise<string[]> => {
      const { stdout } = await promisify(execFile)('kcat', [
        '-C',
        '-b',
        bootstrap,
        '-t',
        REWIND,
        '-o',
        'beginning',
        '-e',
        '-q',
        '-X',
        'isolation.level=read_committed',
        '-f',
        '%s\\n',
      ]);
      return stdout.split('\n').filter(Boolean);
    };
    const copied = (n: number) => async () => ((await onTarget()).length >= n ? true : undefined);
    await eventually('20 records mirrored', 120_000, async () =>
      (await deliveredOf(id)) === 20 ? true : undefined,
    );
    expect(await onTarget()).toEqual(range(0, 20));

    expect((await client.call('POST', `${connectorPath(id)}/pause`)).status).toBe(200);
    await eventually('mirror paused', 30_000, async () =>
      (await tasksOf(id)).every((x) => x.state === 'PAUSED') ? true : undefined,
    );
    const put = await client.call('PUT', `${connectorPath(id)}/offsets`, {
      partitions: [{ topic: REWIND, partition: 0, offset: 5 }],
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect((await client.call('POST', `${connectorPath(id)}/resume`)).status).toBe(200);
    await eventually('the rewound records copied again', 60_000, copied(35));
    await eventually('progress back at the end', 60_000, async () =>
      (await deliveredOf(id)) === 20 ? true : undefined,
    );
    expect(await onTarget()).toEqual([...range(0, 20), ...range(5, 20)]);

    // A restart resumes from the target's offsets group, which the rewound round moved: no second rewind.
    expect((await client.call('POST', `${connectorPath(id)}/restart`)).status).toBe(200);
    await send(20, 25);
    await p.disconnect();
    await eventually('the new records copied', 60_000, async () =>
      (await deliveredOf(id)) === 25 ? true : undefined,
    );
    await eventually('the new records on the target', 60_000, copied(40));
    expect(await onTarget()).toEqual([...range(0, 20), ...range(5, 20), ...range(20, 25)]);
    expect((await client.call('DELETE', connectorPath(id))).status).toBe(204);
  }, 240_000);

  it('exactly once through a kill -9 of the worker copying: the read_committed target holds every source record once', async () => {
    const { id: srcId, bootstrap: srcBootstrap } = await upstreamInstance();
    const TOPIC_EOS = 'ledger';
    const PARTITIONS = 3;
    const t = await client.call('POST', `/v1/instances/${srcId}/topics`, {
      name: TOPIC_EOS,
      partitions: PARTITIONS,
    });
    expect((await waitForOperation(client, t.body.operation.id, 120_000)).status).toBe('succeeded');
    const kafka = new kafkajs.Kafka({
      brokers: [srcBootstrap],
      logLevel: kafkajs.logLevel.NOTHING,
      retry: { retries: 30, maxRetryTime: 2000 }, // rides through the source broker's restart
    });
    const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await p.connect();
    /** At least this many; the producer goes on until the worker is killed. */
    const N = 6000;
    // 1 kB values: the backlog takes the task more than one round (1 MB per partition a fetch).
    const recordValue = (i: number) => `l${i}:${'x'.repeat(1000)}`;
    let sent = 0;
    const send = async (n: number) => {
      const messages = Array.from({ length: n }, (_, i) => ({
        partition: (sent + i) % PARTITIONS,
        key: `k${sent + i}`,
        value: recordValue(sent + i),
      }));
      await p.send({ topic: TOPIC_EOS, acks: -1, messages });
      sent += n;
    };
    // A backlog, so the task is busy writing (not waiting on fetches) when its worker dies: a kill
    // between a write and its offsets' commit is what at least once would copy twice.
    while (sent < (2 * N) / 3) await send(500);
    workers.set('connect-m', startConnectWorker(s.t.databaseUrl, 'connect-m'));

    const created = await client.call('POST', `/v1/instances/${instanceId}/connectors`, {
      name: 'ledger-eos',
      type: 'mirror',
      config: {
        source: { bootstrapServers: srcBootstrap.split(',') },
        topicsInclude: [TOPIC_EOS],
        exactlyOnce: true,
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id: string = created.body.id;
    // Killed mid-transaction: its records are in the target's log (high watermark) but past the last
    // stable offset. Watched from the start without pause (a round's transaction lasts a fraction of a
    // second), with the task's holder alongside. Seen open, the holder is frozen (SIGSTOP): still open
    // a second later, it had not ended the transaction (an ended one completes without it), and the
    // kill -9 leaves it to the next holder to abort; otherwise it goes on and the watch resumes.
    let killed = false;
    const sending = (async () => {
      while (sent < N || !killed) {
        await send(250);
        if (sent >= N) await new Promise((r) => setTimeout(r, 200)); // a trickle while the kill waits
      }
    })();
    let holder: string | undefined;
    const watchHolder = setInterval(() => {
      void tasksOf(id).then((tasks) => {
        holder = tasks[0]?.workerId ?? holder;
      });
    }, 100);
    const probe = new Consumer({
      clientId: 'eos-probe',
      groupId: 'eos-probe',
      bootstrapBrokers: [bootstrap],
    });
    const openOnTarget = async () => {
      const last = async (isolationLevel: number) =>
        (await probe.listOffsets({ topics: [TOPIC_EOS], timestamp: -1n, isolationLevel })).get(TOPIC_EOS) ??
        [];
      const [high, stable] = await Promise.all([last(0), last(1)]).catch(() => [[], []]);
      return high.some((h, i) => h > (stable[i] ?? h));
    };
    const deadline = Date.now() + 90_000;
    let victim: string;
    for (;;) {
      if (Date.now() > deadline) {
        clearInterval(watchHolder);
        killed = true;
        throw new Error('no transaction caught open on the target within 90 s');
      }
      if (holder === undefined) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (!(await openOnTarget())) continue;
      const frozen = workers.get(holder)!;
      frozen.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, 1000));
      if (await openOnTarget()) {
        victim = holder;
        break;
      }
      frozen.kill('SIGCONT');
    }
    clearInterval(watchHolder);
    await stopConnectWorker(workers.get(victim)!, 'SIGKILL');
    killed = true;
    await probe.close();
    // The source's only broker dies too, under the producer (its zone agent starts it again).
    const sourceBroker = (
      await Promise.all(
        s.agents.map(async (a) => (await a.processes.list()).filter((b) => b.instanceId === srcId)),
      )
    ).flat()[0]!;
    process.kill(sourceBroker.pid!, 'SIGKILL');
    await sending;
    const total = sent;
    await eventually('the source broker started again', 60_000, async () => {
      const now = (await Promise.all(s.agents.map((a) => a.processes.list())))
        .flat()
        .find((b) => b.instanceId === srcId);
      return now?.running && now.pid !== sourceBroker.pid ? true : undefined;
    });
    await p.disconnect();

    await eventually('every record mirrored', 120_000, async () =>
      (await deliveredOf(id)) === total ? true : undefined,
    );
    expect((await tasksOf(id))[0]!.workerId).not.toBe(victim);

    // kcat (librdkafka) as a read_committed consumer, to the end of each partition.
    const kcat = (isolation: string) =>
      promisify(execFile)(
        'kcat',
        [
          '-C',
          '-b',
          bootstrap,
          '-t',
          TOPIC_EOS,
          '-o',
          'beginning',
          '-e',
          '-q',
          '-X',
          `isolation.level=${isolation}`,
          '-f',
          '%p %o %s\\n',
        ],
        { maxBuffer: 64 * 1024 * 1024 },
      );
    const { stdout } = await kcat('read_committed');
    // The killed round's copy is in the log, aborted: read_committed must skip it.
    const uncommitted = (await kcat('read_uncommitted')).stdout.trim().split('\n').length;
    expect(uncommitted).toBeGreaterThan(total);
    const got = stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([partition, offset, value]) => ({
        partition: Number(partition),
        offset: Number(offset),
        value: value!,
      }));
    const digest = (values: string[]) => createHash('sha256').update(values.join('\n')).digest('hex');
    const targetAdmin = new kafkajs.Kafka({
      brokers: [bootstrap],
      logLevel: kafkajs.logLevel.NOTHING,
    }).admin();
    await targetAdmin.connect();
    const ends = await targetAdmin.fetchTopicOffsets(TOPIC_EOS);
    await targetAdmin.disconnect();
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const want = Array.from({ length: total }, (_, i) => i)
        .filter((i) => i % PARTITIONS === partition)
        .map(recordValue);
      const have = got
        .filter((m) => m.partition === partition)
        .sort((a, b) => a.offset - b.offset)
        .map((m) => m.value);
      expect({ partition, count: have.length, sha256: digest(have) }).toEqual({
        partition,
        count: want.length,
        sha256: digest(want),
      });
      // Written in transactions: each left its commit marker in the partition.
      const end = Number(ends.find((e) => e.partition === partition)!.high);
      expect(end).toBeGreaterThan(want.length);
    }
  }, 300_000);

  it("two mirrors A→B and B→A of one topic: each side's records reach the other exactly once, nothing cycles; configs changed on a side follow", async () => {
    const a = await upstreamInstance();
    const b = { id: instanceId, bootstrap };
    const TOPIC_CHAT = 'chat';
    const made = await client.call('POST', `/v1/instances/${a.id}/topics`, {
      name: TOPIC_CHAT,
      partitions: 2,
      configs: { 'retention.ms': '7200000', 'segment.ms': '600000', 'min.insync.replicas': '1' },
    });
    expect((await waitForOperation(client, made.body.operation.id, 120_000)).status).toBe('succeeded');
    const mirror = async (on: string, name: string, from: string): Promise<string> => {
      const r = await client.call('POST', `/v1/instances/${on}/connectors`, {
        name,
        type: 'mirror',
        config: {
          source: { bootstrapServers: from.split(',') },
          topicsInclude: [TOPIC_CHAT],
          topicSyncIntervalMs: 1000,
          // Counts below are high watermarks: no transaction markers (cycles are the subject here).
          exactlyOnce: false,
        },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.id;
    };
    const aToB = await mirror(b.id, 'a-to-b', a.bootstrap);
    const bToA = await mirror(a.id, 'b-to-a', b.bootstrap);
    const chatOn = async (ins: string) =>
      (
        (await client.call('GET', `/v1/instances/${ins}/topics`)).body.items as {
          name: string;
          partitions: number;
          configs: Record<string, string>;
        }[]
      ).find((t) => t.name === TOPIC_CHAT);
    // A→B creates the topic on B with A's configs, except min.insync.replicas (never copied).
    const onB = await eventually('the topic created on B', 60_000, () => chatOn(b.id));
    expect(onB.partitions).toBe(2);
    expect(onB.configs).toEqual({ 'retention.ms': '7200000', 'segment.ms': '600000' });

    const N = 40;
    const produce = async (servers: string, side: string) => {
      const p = new kafkajs.Kafka({
        brokers: servers.split(','),
        logLevel: kafkajs.logLevel.NOTHING,
      }).producer({
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await p.connect();
      await p.send({
        topic: TOPIC_CHAT,
        acks: -1,
        messages: Array.from({ length: N }, (_, i) => ({
          partition: i % 2,
          key: `${side}${i}`,
          value: `${side}-${i}`,
          headers: { side },
        })),
      });
      await p.disconnect();
    };
    await produce(a.bootstrap, 'a');
    await produce(b.bootstrap, 'b');

    const endOf = async (servers: string): Promise<number> => {
      const admin = new kafkajs.Kafka({
        brokers: servers.split(','),
        logLevel: kafkajs.logLevel.NOTHING,
      }).admin();
      await admin.connect();
      try {
        return (await admin.fetchTopicOffsets(TOPIC_CHAT)).reduce((n, p) => n + Number(p.high), 0);
      } finally {
        await admin.disconnect();
      }
    };
    const readOf = async (ins: string, connector: string): Promise<number> =>
      (
        await client.call('GET', `/v1/instances/${ins}/connectors/${connector}/offsets`)
      ).body.partitions.reduce((n: number, p: { offset: number }) => n + p.offset, 0);
    /** Both sides' record counts and how far each mirror has read the other side. */
    const look = async () => {
      const ends = [await endOf(a.bootstrap), await endOf(b.bootstrap)];
      const read = [await readOf(b.id, aToB), await readOf(a.id, bToA)];
      const again = [await endOf(a.bootstrap), await endOf(b.bootstrap)];
      // A cycle copies records again and again: any count past both sides' records is one.
      if (again.some((n) => n > 2 * N)) throw new Error(`records copied more than once: ${again}`);
      return { ends: again, settled: ends.join() === again.join() && read.join() === again.join() };
    };
    // Settled: each mirror has read the other side to its end (the records that came from its own
    // side included) and both sides hold each side's records once.
    await eventually('both mirrors read the other side to its end', 120_000, async () => {
      const l = await look();
      return l.settled && l.ends.every((n) => n === 2 * N) ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, 2000));
    expect(await look()).toEqual({ ends: [2 * N, 2 * N], settled: true });

    const [idA, idB] = [await clusterIdOf(a.bootstrap), await clusterIdOf(b.bootstrap)];
    expect(idA).not.toBe(idB);
    for (const [side, servers, otherId] of [
      ['a', a.bootstrap, idB],
      ['b', b.bootstrap, idA],
    ] as const) {
      const consumer = new kafkajs.Kafka({
        brokers: servers.split(','),
        logLevel: kafkajs.logLevel.NOTHING,
      }).consumer({
        groupId: `two-way-check-${side}`,
      });
      await consumer.connect();
      await consumer.subscribe({ topic: TOPIC_CHAT, fromBeginning: true });
      const got: { value: string; headers: Record<string, string> }[] = [];
      await consumer.run({
        eachMessage: async ({ message }) => {
          got.push({
            value: String(message.value),
            headers: Object.fromEntries(
              Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
            ),
          });
        },
      });
      await eventually(`side ${side} consumed`, 60_000, async () => (got.length >= 2 * N ? true : undefined));
      await consumer.disconnect();
      const want = ['a', 'b'].flatMap((s) => Array.from({ length: N }, (_, i) => `${s}-${i}`));
      expect(got.map((m) => m.value).sort()).toEqual(want.sort());
      // Records produced here have no origin header; those copied from the other side name it.
      for (const m of got)
        expect(m.headers).toEqual(
          m.value.startsWith(side)
            ? { side }
            : { side: m.value.split('-')[0]!, '__fjord.mirror.path': otherId },
        );
    }

    // A config changed on A reaches B (set, changed, removed); B→A, which saw nothing change on B,
    // neither undoes it on A nor touches min.insync.replicas there.
    const patched = await client.call('PATCH', `/v1/instances/${a.id}/topics/${TOPIC_CHAT}`, {
      configs: { 'retention.ms': '3600000', 'segment.ms': null, 'max.message.bytes': '200000' },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(202);
    expect((await waitForOperation(client, patched.body.operation.id, 120_000)).status).toBe('succeeded');
    const synced = { 'retention.ms': '3600000', 'max.message.bytes': '200000' };
    await eventually('the change on A copied to B', 60_000, async () => {
      const t = await chatOn(b.id);
      return isDeepStrictEqual(t?.configs, synced) ? true : undefined;
    });
    // Sync rounds of both mirrors (every second) later, both sides still hold the change.
    await new Promise((r) => setTimeout(r, 2000));
    expect((await chatOn(b.id))?.configs).toEqual(synced);
    expect((await chatOn(a.id))?.configs).toEqual({ ...synced, 'min.insync.replicas': '1' });
    for (const [ins, id] of [
      [b.id, aToB],
      [a.id, bToA],
    ])
      expect((await client.call('DELETE', `/v1/instances/${ins}/connectors/${id}`)).status).toBe(204);
  }, 300_000);
});

describe('PostgreSQL sink connector', () => {
  it('PUT offsets moves the sink: rewound records are written again, skipped ones are not', async () => {
    const TOPIC_R = 'pg-rewind';
    const t = await client.call('POST', `/v1/instances/${instanceId}/topics`, {
      name: TOPIC_R,
      partitions: 1,
    });
    expect((await waitForOperation(client, t.body.operation.id, 120_000)).status).toBe('succeeded');
    const { database, target, drop } = await targetDatabase('fjord_pgreset');
    const kafka = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING });
    const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await p.connect();
    try {
      const send = (from: number, to: number) =>
        p.send({
          topic: TOPIC_R,
          acks: -1,
          messages: Array.from({ length: to - from }, (_, i) => ({
            key: `s${from + i}`,
            value: JSON.stringify({ seq: from + i }),
          })),
        });
      const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
      await send(0, 10);
      // Insert mode: every record written is a row, so a record written again shows as a second row.
      const created = await client.call('POST', `/v1/instances/${instanceId}/connectors`, {
        name: 'pg-rewound',
        type: 'postgres-sink',
        config: {
          topics: [TOPIC_R],
          connection: { host: '127.0.0.1', port: 5432, database, user: 'postgres' },
          table: 'rewound',
          autoCreate: true,
        },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id: string = created.body.id;
      const seqs = async () =>
        (await target.query('SELECT seq::int AS seq FROM rewound ORDER BY seq')).rows.map(
          (r: { seq: number }) => r.seq,
        );
      const stored = async () =>
        Number(
          (await target.query('SELECT next_offset FROM fjord_connect_offsets WHERE connector = $1', [id]))
            .rows[0]?.next_offset,
        );
      const pause = async () => {
        expect((await client.call('POST', `${connectorPath(id)}/pause`)).status).toBe(200);
        await eventually('sink paused', 30_000, async () =>
          (await tasksOf(id)).every((x) => x.state === 'PAUSED') ? true : undefined,
        );
      };
      const resetTo = async (offset: number) => {
        const put = await client.call('PUT', `${connectorPath(id)}/offsets`, {
          partitions: [{ topic: TOPIC_R, partition: 0, offset }],
        });
        expect(put.status, JSON.stringify(put.body)).toBe(200);
      };
      await eventually('10 rows', 120_000, async () => ((await deliveredOf(id)) === 10 ? true : undefined));
      expect(await seqs()).toEqual(range(0, 10));

      // Backwards: 4..9 again (the table's offset moves back from 10 in the batch's transaction), then 10..19.
      await pause();
      await resetTo(4);
      await send(10, 20);
      expect((await client.call('POST', `${connectorPath(id)}/resume`)).status).toBe(200);
      await eventually('caught up after the rewind', 60_000, async () =>
        (await deliveredOf(id)) === 20 ? true : undefined,
      );
      expect(await seqs()).toEqual(
        [...range(0, 10), ...range(4, 10), ...range(10, 20)].sort((a, b) => a - b),
      );
      expect(await stored()).toBe(20);

      // Forwards: 20..24, produced while paused, are skipped.
      await pause();
      await send(20, 30);
      await resetTo(25);
      expect((await client.call('POST', `${connectorPath(id)}/resume`)).status).toBe(200);
      await eventually('caught up after the skip', 60_000, async () =>
        (await deliveredOf(id)) === 30 ? true : undefined,
      );
      expect(await seqs()).toEqual(
        [...range(0, 10), ...range(4, 10), ...range(10, 20), ...range(25, 30)].sort((a, b) => a - b),
      );
      expect(await stored()).toBe(30);
      expect((await client.call('DELETE', connectorPath(id))).status).toBe(204);
    } finally {
      await p.disconnect();
      await drop();
    }
  }, 240_000);

  it('upserts and deletes by key, inserts exactly once through a kill -9, sends poison records to the dead-letter topic', async () => {
    const IN = 'pg-in';
    const DLQ = 'pg-dlq';
    for (const body of [
      { name: IN, partitions: 2 },
      { name: DLQ, partitions: 1 },
    ]) {
      const t = await client.call('POST', `/v1/instances/${instanceId}/topics`, body);
      expect((await waitForOperation(client, t.body.operation.id, 120_000)).status).toBe('succeeded');
    }
    const { database, target, drop } = await targetDatabase('fjord_pgsink');
    for (const id of ['connect-c', 'connect-d']) workers.set(id, startConnectWorker(s.t.databaseUrl, id));
    try {
      const connection = { host: '127.0.0.1', port: 5432, database, user: 'postgres' };
      const create = async (name: string, config: Record<string, unknown>) => {
        const r = await client.call('POST', `/v1/instances/${instanceId}/connectors`, {
          name,
          type: 'postgres-sink',
          tasksMax: 2,
          config: { topics: [IN], connection, autoCreate: true, ...config },
        });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        return r.body.id as string;
      };
      const accounts = await create('accounts', {
        table: 'accounts',
        mode: 'upsert',
        keyColumn: 'id',
        errors: { tolerance: 'all', deadLetterTopic: DLQ },
      });
      // Insert mode: a duplicate would be an extra row. Poison records are skipped (no dead-letter topic).
      const ledger = await create('ledger', { table: 'ledger', errors: { tolerance: 'all' } });

      const kafka = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING });
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await p.connect();
      const N = 2000;
      const KEYS = 20;
      let sent = 0;
      const send = async (n: number) => {
        const messages = Array.from({ length: n }, (_, i) => ({
          key: `a${(sent + i) % KEYS}`,
          value: JSON.stringify({ seq: sent + i, amount: sent + i }),
        }));
        await p.send({ topic: IN, acks: -1, messages });
        sent += n;
      };
      while (sent < N / 2) await send(100);
      await eventually('ledger rows written', 60_000, async () =>
        (await deliveredOf(ledger)) > 0 ? true : undefined,
      );
      const victim = (await tasksOf(ledger)).find((t) => t.workerId !== null)!.workerId!;
      const sending = (async () => {
        while (sent < N) await send(100);
      })();
      await stopConnectWorker(workers.get(victim)!, 'SIGKILL');
      await sending;
      workers.set('connect-e', startConnectWorker(s.t.databaseUrl, 'connect-e'));
      await p.send({
        topic: IN,
        acks: -1,
        messages: [
          { key: 'a3', value: 'not json' },
          { key: 'a4', value: JSON.stringify({ seq: -1, amount: 'lots' }) }, // the bigint column refuses it
          { key: 'a5', value: null },
        ],
      });
      await p.disconnect();
      const total = N + 3;

      for (const id of [accounts, ledger])
        await eventually(`${id} caught up`, 120_000, async () =>
          (await deliveredOf(id)) === total ? true : undefined,
        );

      const ledgerRows = (
        await target.query(
          'SELECT count(*)::int AS n, count(DISTINCT seq)::int AS d, sum(amount)::text AS s FROM ledger',
        )
      ).rows[0];
      expect(ledgerRows).toEqual({ n: N, d: N, s: String((N * (N - 1)) / 2) });
      // The offsets the sink resumes from are in the target database, in the same transactions.
      const stored = (
        await target.query(
          'SELECT sum(next_offset)::int AS n FROM fjord_connect_offsets WHERE connector = $1',
          [ledger],
        )
      ).rows[0];
      expect(stored.n).toBe(total);

      const table = (await target.query('SELECT id, seq, amount FROM accounts ORDER BY id')).rows as {
        id: string;
        seq: string;
        amount: string;
      }[];
      const want = Array.from({ length: KEYS }, (_, k) => k)
        .filter((k) => k !== 5)
        .map((k) => {
          const last = N - KEYS + k; // the last valid value of the key
          return { id: `a${k}`, seq: String(last), amount: String(last) };
        })
        .sort((a, b) => a.id.localeCompare(b.id));
      expect(table).toEqual(want);

      const kadmin = kafka.admin();
      await kadmin.connect();
      const dlqEnd = await kadmin.fetchTopicOffsets(DLQ);
      await kadmin.disconnect();
      expect(dlqEnd.map((o) => o.high)).toEqual(['2']);
      const consumer = kafka.consumer({ groupId: `dlq-${Date.now()}` });
      await consumer.connect();
      await consumer.subscribe({ topic: DLQ, fromBeginning: true });
      const dead: { key: string; value: string; headers: Record<string, string> }[] = [];
      await consumer.run({
        eachMessage: async ({ message }) => {
          dead.push({
            key: String(message.key),
            value: String(message.value),
            headers: Object.fromEntries(
              Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
            ),
          });
        },
      });
      await eventually('dead letters', 60_000, async () => (dead.length >= 2 ? true : undefined));
      await consumer.disconnect();
      expect(dead.map((d) => d.key).sort()).toEqual(['a3', 'a4']);
      const byKey = new Map(dead.map((d) => [d.key, d]));
      expect(byKey.get('a3')!.value).toBe('not json');
      expect(byKey.get('a3')!.headers).toMatchObject({
        '__connect.errors.topic': IN,
        '__connect.errors.connector.name': 'accounts',
        '__connect.errors.stage': 'VALUE_CONVERTER',
      });
      expect(byKey.get('a3')!.headers['__connect.errors.exception.message']).toMatch(/not JSON/);
      expect(byKey.get('a4')!.headers['__connect.errors.exception.message']).toMatch(
        /refused the row.*bigint/,
      );
      for (const d of dead) {
        expect(d.headers['__connect.errors.partition']).toMatch(/^[01]$/);
        expect(d.headers['__connect.errors.offset']).toMatch(/^\d+$/);
      }
      for (const id of [accounts, ledger])
        expect((await client.call('DELETE', connectorPath(id))).status).toBe(204);

      // A database it cannot reach: FAILED with a reason naming it, retried with backoff.
      const nowhere = await client.call('POST', `/v1/instances/${instanceId}/connectors`, {
        name: 'nowhere-db',
        type: 'postgres-sink',
        config: { topics: [IN], connection: { ...connection, port: 1 }, table: 'x' },
      });
      expect(nowhere.status).toBe(201);
      const failed = await eventually('the task failed', 60_000, async () => {
        const t = (await tasksOf(nowhere.body.id))[0]!;
        return t.state === 'FAILED' ? t : undefined;
      });
      expect(failed.reason).toMatch(/cannot reach PostgreSQL at 127\.0\.0\.1:1\//);
      expect((await client.call('DELETE', connectorPath(nowhere.body.id))).status).toBe(204);
    } finally {
      await drop();
    }
  }, 300_000);
});
