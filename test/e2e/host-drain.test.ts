import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { RestClient } from '@fjord/test-support/api';
import { kcatProducer } from '@fjord/test-support/kcat';
import {
  startTestService,
  type TestService,
  waitForOperation,
  type ZoneAgentUnderTest,
} from '@fjord/test-support/service';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let s: TestService;
let client: RestClient;
let h2: ZoneAgentUnderTest;
const INTERNAL_TOKEN = 'host-drain-internal-token';

beforeAll(async () => {
  // One zone, two hosts: the default one the harness registers and h2.
  s = await startTestService(1, {}, { internalToken: INTERNAL_TOKEN });
  h2 = await s.startHost('az-1', 'h2', 8);
  client = (await s.t.tenant('hosts')).client;
}, 120_000);
afterAll(() => s?.close());

async function expectSucceeded(c: RestClient, operationId: string, timeoutMs = 240_000) {
  const op = await waitForOperation(c, operationId, timeoutMs);
  expect(op.status, `${op.kind}: ${JSON.stringify(op.error)}`).toBe('succeeded');
  return op;
}

const hostsOf = async (instanceId: string) =>
  Object.fromEntries(
    (await s.t.prisma.brokerPlacement.findMany({ where: { instanceId }, orderBy: { brokerId: 'asc' } })).map(
      (b) => [b.brokerId, b.hostId],
    ),
  );

const runningOn = async (agent: ZoneAgentUnderTest, instanceId: string) =>
  (await agent.processes.list())
    .filter((b) => b.instanceId === instanceId && b.state === 'running')
    .map((b) => b.brokerId)
    .sort();

describe('several hosts in a zone', () => {
  it("Prometheus discovers every host's agent", async () => {
    const r = await fetch(`${s.t.api.url}/internal/prometheus/targets?kind=agent`, {
      headers: { authorization: `Bearer ${INTERNAL_TOKEN}` },
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual([
      { targets: [new URL(s.agents[0]!.url).host], labels: { zone: 'az-1', host: 'default' } },
      { targets: [new URL(h2.url).host], labels: { zone: 'az-1', host: 'h2' } },
    ]);
  });

  it('places brokers on the emptier host and drains a host under a kcat producer, through a worker killed mid-drain, with nothing lost', async () => {
    const created = await client.call('POST', '/v1/instances', {
      name: 'hosted',
      zones: ['az-1'],
      brokerCount: 3,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    const id = created.body.instance.id as string;
    await expectSucceeded(client, created.body.operation.id);
    // Each broker goes to the host with the most free slots then: 8/8 → default, 7/8 → h2, 7/7 → default.
    expect(await hostsOf(id)).toEqual({ 1: 'default', 2: 'h2', 3: 'default' });
    expect(await runningOn(h2, id)).toEqual([2]);
    const listed = await s.operator.call('GET', '/v1/zones/az-1/hosts');
    expect(listed.body.items).toMatchObject([
      { id: 'default', capacity: 8, used: 2, state: 'active' },
      { id: 'h2', capacity: 8, used: 1, state: 'active', agentUrl: h2.url },
    ]);

    const ins = (await client.call('GET', `/v1/instances/${id}`)).body;
    const bootstrap = ins.bootstrapServers.find((b: { route: string }) => b.route === 'internal').servers;
    const topic = await client.call('POST', `/v1/instances/${id}/topics`, {
      name: 'moving',
      partitions: 3,
      replicationFactor: 3,
    });
    expect(topic.status).toBe(202);
    await expectSucceeded(client, topic.body.operation.id);

    const producer = kcatProducer(bootstrap, 'moving');
    let stopped: { code: number | null; stderr: string };
    try {
      await new Promise((r) => setTimeout(r, 3000));
      // The first worker dies right after recording broker 2's new host, before touching it: the
      // next one finishes the move.
      await s.stopWorker();
      const doomed = s.startWorker({ FJORD_FAULT_KILL: `after:rehomed-${id}-2` });
      const killed = new Promise<NodeJS.Signals | null>((r) =>
        doomed.once('exit', (_code, signal) => r(signal)),
      );
      const drain = await s.operator.call('POST', '/v1/zones/az-1/hosts/h2/drain');
      expect(drain.status, JSON.stringify(drain.body)).toBe(202);
      expect(drain.body).toMatchObject({ kind: 'host.drain', target: 'zone/az-1/host/h2' });
      // Draining at once: the host takes no new brokers.
      expect((await s.operator.call('GET', '/v1/zones/az-1/hosts')).body.items[1].state).toBe('draining');
      expect(await killed).toBe('SIGKILL');
      expect(await hostsOf(id)).toEqual({ 1: 'default', 2: 'default', 3: 'default' });
      expect(await runningOn(h2, id)).toEqual([2]);
      s.startWorker();
      const op = await expectSucceeded(s.operator, drain.body.id);
      expect(op.progress).toMatchObject({ [`rehomed-${id}-2`]: 'default', [`moved-${id}-2`]: 'default' });
    } finally {
      stopped = await producer.stop();
    }
    expect(await hostsOf(id)).toEqual({ 1: 'default', 2: 'default', 3: 'default' });
    expect(await runningOn(s.agents[0]!, id)).toEqual([1, 2, 3]);
    // Removed from the old host, data and all.
    expect((await h2.processes.list()).filter((b) => b.instanceId === id)).toEqual([]);
    // Broker 2 re-replicated on its new host and every other replica still in sync: every partition's
    // ISR whole (as any broker tells a client; its view may trail the controller's by a moment on a
    // busy machine).
    const admin = new kafkajs.Kafka({
      brokers: bootstrap.split(','),
      logLevel: kafkajs.logLevel.NOTHING,
    }).admin();
    await admin.connect();
    let layout: { partition: number; leader: number; isr: number[] }[] = [];
    const looked = Date.now();
    try {
      const until = looked + 60_000;
      do {
        const [meta] = (await admin.fetchTopicMetadata({ topics: ['moving'] })).topics;
        layout = meta!.partitions.map((p) => ({
          partition: p.partitionId,
          leader: p.leader,
          isr: [...p.isr].sort(),
        }));
        if (layout.every((p) => p.isr.length === 3)) break;
        await new Promise((r) => setTimeout(r, 500));
      } while (Date.now() < until);
    } finally {
      await admin.disconnect();
    }
    console.log(
      `partitions as a client sees them after ${Date.now() - looked} ms: ${JSON.stringify(layout)}`,
    );
    expect(layout.filter((p) => p.isr.join() !== '1,2,3')).toEqual([]);

    expect(stopped.stderr).not.toMatch(/delivery failed|failed to deliver/i);
    expect(stopped.code).toBe(0);
    expect(producer.sent).toBeGreaterThan(500);
    const { stdout } = await promisify(execFile)(
      'kcat',
      ['-C', '-b', bootstrap, '-t', 'moving', '-e', '-q', '-f', '%s\\n'],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const seen = new Set(stdout.split('\n').filter(Boolean));
    console.log(`produced ${producer.sent}, read back ${seen.size}`);
    const missing = Array.from({ length: producer.sent }, (_, i) => `m${i}`).filter((m) => !seen.has(m));
    expect(missing.slice(0, 10)).toEqual([]);

    // The health reconciler finds every broker running and answering on its new host.
    const deadline = Date.now() + 60_000;
    let health: { status: string; reason: string | null } | undefined;
    while (Date.now() < deadline) {
      health = (await client.call('GET', `/v1/instances/${id}`)).body.health;
      if (health?.status === 'healthy') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(health).toMatchObject({ status: 'healthy', reason: null });

    // The default host cannot be drained now: h2 is draining, no other host would take its brokers.
    const refused = await s.operator.call('POST', '/v1/zones/az-1/hosts/default/drain');
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(refused.body.detail).toBe(
      'host default cannot be drained: the zone has no other active host to take its 3 broker(s)',
    );
    expect((await s.operator.call('GET', '/v1/zones/az-1/hosts')).body.items[0].state).toBe('active');

    const del = await client.call('DELETE', `/v1/instances/${id}`);
    await expectSucceeded(client, del.body.operation.id);
  }, 420_000);
});
