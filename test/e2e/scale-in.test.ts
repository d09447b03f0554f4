import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { instanceAdminCredential, replicaBytesOn } from '@fjord/fleet';
import { type RestClient, TEST_ADMIN_SECRET } from '@fjord/test-support/api';
import { kcatProducer } from '@fjord/test-support/kcat';
import { startTestService, type TestService, waitForOperation } from '@fjord/test-support/service';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Long enough to tell apart from a restart's own time, short enough for a busy 2-core machine.
const SETTLE_MS = 3000;

let s: TestService;
let client: RestClient;
const CLI = resolve(import.meta.dirname, '../../apps/cli/dist/main.js');
const cliEnv = {
  ...process.env,
  FJORD_CONFIG: join(mkdtempSync(join(tmpdir(), 'fjord-cli-')), 'credentials.json'),
};

/** The CLI as a user runs it (asynchronously: the API answering it runs in this process). */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [CLI, ...args], { env: cliEnv });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

beforeAll(async () => {
  s = await startTestService(3, { FJORD_ROLLING_SETTLE_MS: String(SETTLE_MS) });
  const tenant = await s.t.tenant('elastic');
  client = tenant.client;
  const login = await cli('login', '--api', client.baseUrl, '--key', tenant.keyId, '--secret', tenant.secret);
  expect(login.code, login.stderr).toBe(0);
}, 120_000);
afterAll(() => s?.close());

async function expectSucceeded(operationId: string, timeoutMs = 240_000) {
  const op = await waitForOperation(client, operationId, timeoutMs);
  expect(op.status, `${op.kind}: ${JSON.stringify(op.error)}`).toBe('succeeded');
  return op;
}

async function createInstance(name: string): Promise<{ id: string; bootstrap: string }> {
  const created = await client.call('POST', '/v1/instances', { name, zones: ['az-1', 'az-2', 'az-3'] });
  expect(created.status).toBe(202);
  await expectSucceeded(created.body.operation.id);
  const ins = (await client.call('GET', `/v1/instances/${created.body.instance.id}`)).body;
  const bootstrap = ins.bootstrapServers.find((b: { route: string }) => b.route === 'internal').servers;
  return { id: ins.id, bootstrap };
}

async function createTopic(id: string, name: string, replicationFactor: number) {
  const r = await client.call('POST', `/v1/instances/${id}/topics`, {
    name,
    partitions: 6,
    replicationFactor,
  });
  expect(r.status).toBe(202);
  await expectSucceeded(r.body.operation.id);
}

/** Partitions of every topic (internal ones included) through one broker that stays. */
async function layout(bootstrap: string) {
  const admin = new kafkajs.Kafka({
    brokers: bootstrap.split(','),
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const names = await admin.listTopics();
    return (await admin.fetchTopicMetadata({ topics: names })).topics.flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.name, ...p })),
    );
  } finally {
    await admin.disconnect();
  }
}

/**
 * The layout once every partition is in sync with its preferred leader, or the last one seen after
 * 30 s. The operation checked this before it ended; a client's metadata comes from any broker,
 * whose view of the ISR may trail the controller's by a moment on a loaded machine.
 */
async function settledLayout(bootstrap: string) {
  const started = Date.now();
  for (;;) {
    const parts = await layout(bootstrap);
    const settled = parts.every((p) => p.isr.length === p.replicas.length && p.leader === p.replicas[0]);
    if (settled || Date.now() - started > 30_000) {
      if (Date.now() - started > 1000) console.log(`layout settled after ${Date.now() - started} ms more`);
      return parts;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function expectHealthy(id: string, bootstrap: string, brokerIds: number[]) {
  const ins = (await client.call('GET', `/v1/instances/${id}`)).body;
  expect(ins.status).toBe('running');
  expect(ins.brokerCount).toBe(brokerIds.length);
  expect(ins.brokers.map((b: { id: number }) => b.id).sort()).toEqual(brokerIds);
  expect(new Set(ins.brokers.map((b: { zone: string }) => b.zone)).size).toBe(3);
  const procs = (await Promise.all(s.agents.map((a) => a.processes.list())))
    .flat()
    .filter((b) => b.instanceId === id);
  expect(procs.map((p) => p.brokerId).sort()).toEqual(brokerIds);
  const parts = await settledLayout(bootstrap);
  expect(parts.filter((p) => p.isr.length < p.replicas.length)).toEqual([]);
  expect(parts.flatMap((p) => p.replicas).every((r) => brokerIds.includes(r))).toBe(true);
  // One replica per zone (RF ≤ 3 over 3 zones).
  const zoneOf = new Map(ins.brokers.map((b: { id: number; zone: string }) => [b.id, b.zone]));
  expect(
    parts
      .filter((p) => new Set(p.replicas.map((r) => zoneOf.get(r))).size < p.replicas.length)
      .map((p) => `${p.topic}-${p.partitionId} on ${p.replicas.join(',')}`),
  ).toEqual([]);
}

/** A kcat consumer group member printing every value it reads. */
function kcatGroupConsumer(bootstrap: string, topic: string, group: string) {
  const p: ChildProcess = spawn(
    'kcat',
    ['-b', bootstrap, '-G', group, '-X', 'auto.offset.reset=earliest', '-f', '%s\\n', '-u', '-q', topic],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const seen = new Set<string>();
  let rest = '';
  p.stdout!.on('data', (d) => {
    const lines = (rest + String(d)).split('\n');
    rest = lines.pop()!;
    for (const l of lines) if (l) seen.add(l);
  });
  let stderr = '';
  p.stderr!.on('data', (d) => {
    stderr += String(d);
  });
  return {
    seen,
    get stderr() {
      return stderr;
    },
    async stop() {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
    },
  };
}

describe('scale out and back in under load', () => {
  it('3 → 6 → 3 brokers with a kcat producer and a consumer group: nothing lost, no delivery failure', async () => {
    const { id, bootstrap } = await createInstance('elastic');
    await createTopic(id, 'load', 3);
    const consumer = kcatGroupConsumer(bootstrap, 'load', 'load-watch');
    const producer = kcatProducer(bootstrap, 'load');
    let stopped: { code: number | null; stderr: string } | undefined;
    try {
      await new Promise((r) => setTimeout(r, 3000));
      // Through the CLI, both ways.
      const grown = await cli('instances', 'resize', id, '--brokers', '6', '--wait');
      expect(grown.code, grown.stderr + grown.stdout).toBe(0);
      expect(JSON.parse(grown.stdout).status).toBe('succeeded');
      await expectHealthy(id, bootstrap, [1, 2, 3, 4, 5, 6]);
      const parts = await layout(bootstrap);
      for (const b of [4, 5, 6]) expect(parts.some((p) => p.replicas.includes(b))).toBe(true);

      const started = Date.now();
      const shrinking = await cli('instances', 'resize', id, '--brokers', '3');
      expect(shrinking.code, shrinking.stderr + shrinking.stdout).toBe(0);
      const shrink = JSON.parse(shrinking.stdout).operation.id as string;
      // The count changes when the brokers are gone, not before.
      expect((await client.call('GET', `/v1/instances/${id}`)).body).toMatchObject({
        status: 'resizing',
        brokerCount: 6,
      });
      const op = await expectSucceeded(shrink);
      console.log(`scale-in 6 → 3 took ${Date.now() - started} ms`);
      expect(Object.keys(op.progress)).toEqual(
        expect.arrayContaining([
          'drained',
          ...[6, 5, 4].flatMap((b) => [`stopped-broker-${b}`, `removed-broker-${b}`]),
        ]),
      );
      await expectHealthy(id, bootstrap, [1, 2, 3]);
      // Leadership is back on the preferred replicas.
      expect((await layout(bootstrap)).filter((p) => p.leader !== p.replicas[0])).toEqual([]);
    } finally {
      stopped = await producer.stop();
    }
    const deadline = Date.now() + 60_000;
    while (consumer.seen.size < producer.sent && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    await consumer.stop();
    console.log(`produced ${producer.sent}, read back ${consumer.seen.size}`);
    expect(stopped.stderr).not.toMatch(/delivery failed|failed to deliver/i);
    expect(stopped.code).toBe(0);
    expect(producer.sent).toBeGreaterThan(500);
    const missing = Array.from({ length: producer.sent }, (_, i) => `m${i}`).filter(
      (m) => !consumer.seen.has(m),
    );
    expect(missing.slice(0, 10)).toEqual([]);

    const audit = await s.t.prisma.auditEvent.findMany({
      where: { resource: `instance/${id}`, action: 'ResizeInstance' },
    });
    expect(audit.map((a) => (a.details as { brokerCount: number }).brokerCount).sort()).toEqual([3, 6]);
    const del = await client.call('DELETE', `/v1/instances/${id}`);
    await expectSucceeded(del.body.operation.id);
  }, 600_000);

  it('refuses up front what the remaining brokers cannot hold', async () => {
    const { id, bootstrap } = await createInstance('narrow');
    await createTopic(id, 'wide', 3);
    execFileSync('kcat', ['-b', bootstrap, '-t', 'wide', '-P'], {
      input: `${Array.from({ length: 200 }, (_, i) => `v${i}`).join('\n')}\n`,
    });
    // What the API's data-fit check reads: each broker's replica bytes (DescribeLogDirs).
    const credential = instanceAdminCredential(id, TEST_ADMIN_SECRET);
    const placements = await s.t.prisma.brokerPlacement.findMany({ where: { instanceId: id } });
    const bytes = await Promise.all(
      placements.map((b) =>
        replicaBytesOn({ host: b.host, port: (b.ports as Record<string, number>).CONTROL!, credential }),
      ),
    );
    // RF 3 on 3 brokers: every broker holds a copy of the 200 values.
    for (const n of bytes) expect(n).toBeGreaterThan(200 * 4);
    const r = await client.call('POST', `/v1/instances/${id}/resize`, { brokerCount: 2 });
    expect(r.status).toBe(422);
    expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(r.body.errors.map((e: { path: string }) => e.path)).toEqual(['/brokerCount']);
    expect(r.body.detail).toMatch(/cannot span the instance's 3 zones/);
    const refused = await cli('instances', 'resize', id, '--brokers', '2');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr).errors[0].path).toBe('/brokerCount');
    expect((await client.call('GET', `/v1/instances/${id}`)).body).toMatchObject({
      status: 'running',
      brokerCount: 3,
    });
    const del = await client.call('DELETE', `/v1/instances/${id}`);
    await expectSucceeded(del.body.operation.id);

    // Two zones, four brokers: two would still span the zones but cannot hold an RF=3 topic.
    const created = await client.call('POST', '/v1/instances', {
      name: 'two-zones',
      zones: ['az-1', 'az-2'],
      brokerCount: 4,
      defaultReplicationFactor: 3,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    await expectSucceeded(created.body.operation.id);
    const twoZones = created.body.instance.id;
    await createTopic(twoZones, 'wide', 3);
    const narrow = await client.call('POST', `/v1/instances/${twoZones}/resize`, { brokerCount: 2 });
    expect(narrow.status).toBe(422);
    expect(narrow.body.errors.map((e: { path: string }) => e.path)).toEqual(['/brokerCount']);
    expect(narrow.body.detail).toMatch(/cannot hold the 3 replicas of topic/);
    // Three brokers can: the one leaving is the highest id of the fuller zone.
    const three = await client.call('POST', `/v1/instances/${twoZones}/resize`, { brokerCount: 3 });
    expect(three.status, JSON.stringify(three.body)).toBe(202);
    expect(three.body.instance.statusReason).toBe('resizing to 3 brokers (draining 4)');
    await expectSucceeded(three.body.operation.id);
    const after = (await client.call('GET', `/v1/instances/${twoZones}`)).body;
    expect(after.brokers.map((b: { id: number }) => b.id).sort()).toEqual([1, 2, 3]);
    const gone = await client.call('DELETE', `/v1/instances/${twoZones}`);
    await expectSucceeded(gone.body.operation.id);
  }, 300_000);
});

describe('removing a broker that is down', () => {
  it('drains it from the other replicas and removes it', async () => {
    const { id, bootstrap } = await createInstance('limping');
    await createTopic(id, 'kept', 2);
    const grow = await client.call('POST', `/v1/instances/${id}/resize`, { brokerCount: 4 });
    expect(grow.status).toBe(202);
    await expectSucceeded(grow.body.operation.id);
    expect((await layout(bootstrap)).some((p) => p.replicas.includes(4))).toBe(true);
    // Stopped on purpose, so the zone agent leaves it down.
    const four = (await s.t.prisma.brokerPlacement.findMany({ where: { instanceId: id, brokerId: 4 } }))[0]!;
    await s.agents.find((a) => a.zone === four.zone)!.processes.stop(`${id}-b4`);
    const shrink = await client.call('POST', `/v1/instances/${id}/resize`, { brokerCount: 3 });
    expect(shrink.status, JSON.stringify(shrink.body)).toBe(202);
    await expectSucceeded(shrink.body.operation.id);
    await expectHealthy(id, bootstrap, [1, 2, 3]);
    // Growing again reuses id 4: a new broker with empty disks joins under the removed one's id.
    const again = await client.call('POST', `/v1/instances/${id}/resize`, { brokerCount: 4 });
    expect(again.status).toBe(202);
    await expectSucceeded(again.body.operation.id);
    await expectHealthy(id, bootstrap, [1, 2, 3, 4]);
    expect((await layout(bootstrap)).some((p) => p.replicas.includes(4))).toBe(true);
    const del = await client.call('DELETE', `/v1/instances/${id}`);
    await expectSucceeded(del.body.operation.id);
  }, 300_000);
});

describe('rolling restart that clients ride through', () => {
  it('waits between brokers for in-sync replicas, preferred leaders and the settle time', async () => {
    const { id, bootstrap } = await createInstance('rolling');
    await createTopic(id, 'steady', 3);
    // Under produce load: each broker demoted by the preferred election must fetch on as a follower.
    const producer = kcatProducer(bootstrap, 'steady');
    let op: Awaited<ReturnType<typeof expectSucceeded>>;
    let stopped: { code: number | null; stderr: string };
    try {
      await new Promise((r) => setTimeout(r, 2000));
      const r = await client.call('POST', `/v1/instances/${id}/restart`);
      expect(r.status).toBe(202);
      op = await expectSucceeded(r.body.operation.id);
    } finally {
      stopped = await producer.stop();
    }
    expect(stopped.stderr).not.toMatch(/delivery failed|failed to deliver/i);
    expect(stopped.code).toBe(0);
    const times = [1, 2, 3].map((b) => Date.parse(op.progress[`restarted-broker-${b}`]));
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    console.log(`rolling restart: ${gaps.join(', ')} ms between brokers (settle ${SETTLE_MS} ms)`);
    // Each broker's step ends after its restart, the waits and the settle time.
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(SETTLE_MS);
    const parts = await settledLayout(bootstrap);
    expect(parts.filter((p) => p.isr.length < p.replicas.length)).toEqual([]);
    expect(parts.filter((p) => p.leader !== p.replicas[0])).toEqual([]);
    const del = await client.call('DELETE', `/v1/instances/${id}`);
    await expectSucceeded(del.body.operation.id);
  }, 300_000);
});
