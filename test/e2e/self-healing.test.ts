import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { instanceAdminCredential } from '@fjord/fleet';
import { type RestClient, TEST_ADMIN_SECRET } from '@fjord/test-support/api';
import { startTestService, type TestService, waitForOperation } from '@fjord/test-support/service';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
let s: TestService;
let client: RestClient;
let instanceId: string;
let bootstrap: string;
const TOPIC = 'ledger';

beforeAll(async () => {
  s = await startTestService(3);
  client = (await s.t.tenant('healing')).client;
  const created = await client.call('POST', '/v1/instances', {
    name: 'healing',
    zones: ['az-1', 'az-2', 'az-3'],
    brokerCount: 3,
  });
  instanceId = created.body.instance.id;
  expect((await waitForOperation(client, created.body.operation.id, 120_000)).status).toBe('succeeded');
  bootstrap = (await client.call('GET', `/v1/instances/${instanceId}`)).body.bootstrapServers.find(
    (b: { route: string }) => b.route === 'internal',
  ).servers;
  const topic = await client.call('POST', `/v1/instances/${instanceId}/topics`, {
    name: TOPIC,
    partitions: 3,
    replicationFactor: 3,
    configs: { 'min.insync.replicas': '2' },
  });
  expect((await waitForOperation(client, topic.body.operation.id)).status).toBe('succeeded');
}, 180_000);
afterAll(() => s?.close());

/** kcat as an idempotent acks=all producer of `seq-N` lines, fed while the test runs. */
function startProducer(): { stop(): Promise<{ sent: number; failed: number }> } {
  const p: ChildProcessWithoutNullStreams = spawn('kcat', [
    '-b',
    bootstrap,
    '-t',
    TOPIC,
    '-P',
    '-X',
    'enable.idempotence=true',
    '-X',
    'acks=all',
  ]);
  let stderr = '';
  p.stderr.on('data', (d) => {
    stderr += d;
  });
  let sent = 0;
  const timer = setInterval(() => {
    let lines = '';
    for (let i = 0; i < 20; i++) lines += `seq-${sent++}\n`;
    p.stdin.write(lines);
  }, 20);
  return {
    async stop() {
      clearInterval(timer);
      const exited = new Promise((r) => p.once('exit', r));
      p.stdin.end();
      await exited;
      return { sent, failed: (stderr.match(/Delivery failed/g) ?? []).length };
    },
  };
}

async function underReplicated(): Promise<number> {
  const admin = new Kafka({ brokers: bootstrap.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [TOPIC] });
    return topics[0]!.partitions.filter((p) => p.isr.length < p.replicas.length).length;
  } finally {
    await admin.disconnect();
  }
}

async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined | false>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function brokerOf(brokerId: number) {
  for (const a of s.agents)
    for (const b of await a.processes.list())
      if (b.instanceId === instanceId && b.brokerId === brokerId) return { agent: a, handle: b };
  throw new Error(`broker ${brokerId} not found`);
}

describe('self-healing', () => {
  it('brokers hold their secrets in owner-only files, never on a command line', async () => {
    const { password } = instanceAdminCredential(instanceId, TEST_ADMIN_SECRET);
    for (const id of [1, 2, 3]) {
      const { handle } = await brokerOf(id);
      const cmdline = readFileSync(`/proc/${handle.pid}/cmdline`, 'utf8');
      expect(cmdline).toContain('--add-scram-file');
      expect(cmdline).not.toContain(password);
      const dir = dirname(handle.dataDir);
      expect(readFileSync(join(dir, 'scram-users'), 'utf8')).toContain(password);
      for (const f of ['scram-users', 'broker.json', 'server.properties'])
        expect((statSync(join(dir, f)).mode & 0o777).toString(8), f).toBe('600');
    }
  });

  it('a broker killed with SIGKILL under idempotent acks=all load is back and in sync within 30 s, nothing lost or duplicated', async () => {
    const producer = startProducer();
    await new Promise((r) => setTimeout(r, 2000));
    const { handle: victim } = await brokerOf(2);
    const killedAt = Date.now();
    process.kill(victim.pid!, 'SIGKILL');
    const healedMs = await until('the broker back and every replica in sync', 60_000, async () => {
      const { handle } = await brokerOf(2);
      if (!handle.running || handle.pid === victim.pid) return undefined;
      return (await underReplicated()) === 0 ? Date.now() - killedAt : undefined;
    });
    expect(healedMs).toBeLessThan(30_000);
    await new Promise((r) => setTimeout(r, 1000));
    const { sent, failed } = await producer.stop();
    expect(failed).toBe(0);

    const { stdout } = await run(
      'kcat',
      ['-b', bootstrap, '-t', TOPIC, '-C', '-o', 'beginning', '-e', '-q'],
      {
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
      },
    );
    const read = stdout.trim().split('\n');
    expect(new Set(read).size).toBe(read.length);
    expect(read.length).toBe(sent);

    // The repair is on record, done by `system`, and the instance says it is healthy again.
    const ins = await until('the instance healthy again', 30_000, async () => {
      const r = await client.call('GET', `/v1/instances/${instanceId}`);
      return r.body.health.status === 'healthy' ? r.body : undefined;
    });
    expect(ins.brokers.find((b: { id: number }) => b.id === 2)).toMatchObject({
      observed: 'running',
      restarts: 1,
    });
    const repair = await until('the repair recorded', 30_000, async () => {
      const ops = await s.t.prisma.operation.findMany({ where: { instanceId, kind: 'broker.repair' } });
      return ops[0];
    });
    expect(repair).toMatchObject({
      actor: 'system',
      status: 'SUCCEEDED',
      target: `instance/${instanceId}/broker/2`,
    });
    const audit = (await client.call('GET', '/v1/audit-events?limit=100')).body.items;
    expect(audit).toEqual(
      expect.arrayContaining([expect.objectContaining({ actor: 'system', action: 'RepairBroker' })]),
    );
  }, 180_000);

  it('a broker whose directory is gone from its host is replaced in its zone and re-replicates', async () => {
    const { agent, handle } = await brokerOf(3);
    // The host loses the broker: process and data.
    process.kill(handle.pid!, 'SIGKILL');
    rmSync(join(s.dataDir, agent.zone, agent.host, handle.key), { recursive: true, force: true });
    await until(
      'a replacement running with the same id in the same zone, every replica in sync',
      90_000,
      async () => {
        const again = await agent.processes.handle(handle.key);
        return again?.running && again.reachable && (await underReplicated()) === 0;
      },
    );
    const { stdout } = await run(
      'kcat',
      ['-b', bootstrap, '-t', TOPIC, '-C', '-o', 'beginning', '-e', '-q'],
      {
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
      },
    );
    expect(stdout.trim().split('\n').length).toBeGreaterThan(0);
    const ops = await s.t.prisma.operation.findMany({ where: { instanceId, kind: 'broker.repair' } });
    expect(ops.map((o) => (o.input as { action: string }).action)).toContain('replaced');
    await until('the instance healthy again', 30_000, async () => {
      const r = await client.call('GET', `/v1/instances/${instanceId}`);
      return r.body.health.status === 'healthy';
    });
  }, 180_000);

  it('a spec change reaches running brokers without a restart (bandwidth, partition limit, disk)', async () => {
    const pids = async () => Promise.all([1, 2, 3].map(async (id) => (await brokerOf(id)).handle.pid));
    const before = await pids();
    const r = await client.call('POST', `/v1/instances/${instanceId}/resize`, {
      spec: { bandwidthMBps: 80, partitionLimit: 5, diskGiB: 120 },
    });
    expect(r.status).toBe(202);
    expect((await waitForOperation(client, r.body.operation.id, 120_000)).status).toBe('succeeded');
    expect(await pids()).toEqual(before);

    const admin = new Kafka({
      brokers: bootstrap.split(','),
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    await admin.connect();
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [1, 2, 3].map((id) => ({
          type: 4,
          name: String(id),
          configNames: [
            'fjord.instance.bandwidth.bytes.per.second',
            'fjord.instance.partition.limit',
            'fjord.instance.disk.bytes',
          ],
        })),
      });
      for (const res of described.resources)
        expect(Object.fromEntries(res.configEntries.map((e) => [e.configName, e.configValue]))).toEqual({
          'fjord.instance.bandwidth.bytes.per.second': '80000000',
          'fjord.instance.partition.limit': '5',
          'fjord.instance.disk.bytes': String(120 * 1024 ** 3),
        });
      // 3 partitions in use, 3 more would pass the new limit of 5: refused whichever client asks.
      await expect(
        admin.createTopics({ topics: [{ topic: 'more', numPartitions: 3 }] }),
      ).rejects.toMatchObject({
        errors: [expect.objectContaining({ type: 'POLICY_VIOLATION' })],
      });
      expect(
        await admin.createTopics({ topics: [{ topic: 'fits', numPartitions: 2, replicationFactor: 3 }] }),
      ).toBe(true);
    } finally {
      await admin.disconnect();
    }
  }, 180_000);
});
