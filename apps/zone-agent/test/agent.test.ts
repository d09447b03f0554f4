import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrokerSpec, ZoneAgentClient } from '@fjord/fleet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZoneAgent } from '../src/agent.js';

const dataDir = mkdtempSync(join(tmpdir(), 'fjord-agent-'));
const secret = 'agent-test-secret';
const target = { zone: 'az-1', host: 'default' };
let agent: Awaited<ReturnType<typeof buildZoneAgent>>;
let url: string;

const spec: BrokerSpec = {
  key: 'ins-test-b1',
  instanceId: 'ins-test',
  brokerId: 1,
  listeners: { PLAINTEXT: 'PLAINTEXT' },
  properties: { 'node.id': '1', 'broker.rack': 'az-1' },
  scramUsers: [],
};

async function start() {
  agent = await buildZoneAgent({ zone: 'az-1', host: '127.0.0.1', port: 0, dataDir, secret });
  url = await agent.app.listen({ host: '127.0.0.1', port: 0 });
  return new ZoneAgentClient(async () => url, secret);
}

beforeAll(async () => {
  await start();
});
afterAll(async () => {
  for (const b of await agent.processes.list()) await agent.processes.remove(b.key);
  await agent.app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('zone agent with a real broker process', () => {
  it('refuses requests without the shared secret', async () => {
    expect((await fetch(`${url}/brokers`)).status).toBe(401);
    expect((await fetch(`${url}/brokers`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });

  it('starts a broker once, which outlives the agent; stop keeps its ports; remove deletes its data', async () => {
    let fleet = new ZoneAgentClient(async () => url, secret);
    const first = await fleet.ensureBroker(target, spec);
    expect(first).toMatchObject({ running: true, reachable: true, brokerId: 1 });
    expect((await fleet.ensureBroker(target, spec)).pid).toBe(first.pid);
    // Its own metrics port, not a listener; the broker serves Prometheus text there.
    expect(first.metricsPort).toBeGreaterThan(0);
    expect(Object.values(first.ports)).not.toContain(first.metricsPort);
    const scraped = await fetch(`http://127.0.0.1:${first.metricsPort}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('kafka_server_replicamanager_partitioncount');

    // The agent goes away and comes back: the broker kept running and is found again.
    await agent.app.close();
    fleet = await start();
    const listed = await fleet.listBrokers(target);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ key: spec.key, pid: first.pid, running: true });
    const health = await fleet.health(target);
    expect(health.brokers).toBe(1);
    expect(health.diskFreeBytes).toBeGreaterThan(0);

    await fleet.stopBroker(target, spec.key);
    expect((await fleet.getBroker(target, spec.key))?.running).toBe(false);
    const again = await fleet.ensureBroker(target, spec);
    expect(again.ports).toEqual(first.ports);
    expect(again.metricsPort).toBe(first.metricsPort);
    expect((await fetch(`http://127.0.0.1:${again.metricsPort}/metrics`)).status).toBe(200);
    expect(again.pid).not.toBe(first.pid);

    await fleet.removeBroker(target, spec.key);
    expect(await fleet.getBroker(target, spec.key)).toBeUndefined();
    expect(existsSync(first.dataDir)).toBe(false);
    await fleet.removeBroker(target, spec.key);
  }, 60_000);

  it('refuses a spec that is not for the key, or has unsafe values', async () => {
    const put = (key: string, body: unknown) =>
      fetch(`${url}/brokers/${key}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await put('other-key', spec)).status).toBe(400);
    expect(
      (await put(spec.key, { ...spec, properties: { 'log.dirs': '/x\nlisteners=EVIL://0.0.0.0:1' } })).status,
    ).toBe(400);
  });
});

describe('supervision', () => {
  it('restarts a broker killed with SIGKILL, with its ports and data, and leaves a stopped one alone', async () => {
    const s: BrokerSpec = { ...spec, key: 'ins-test-b2', brokerId: 2, properties: { 'node.id': '2' } };
    const fleet = new ZoneAgentClient(async () => url, secret);
    const first = await fleet.ensureBroker(target, s);
    process.kill(first.pid!, 'SIGKILL');
    const back = await until(60_000, async () => {
      const h = await fleet.getBroker(target, s.key);
      return h?.running && h.reachable && h.pid !== first.pid ? h : undefined;
    });
    expect(back).toMatchObject({
      state: 'running',
      restarts: 1,
      ports: first.ports,
      metricsPort: first.metricsPort,
    });

    await fleet.stopBroker(target, s.key);
    await sleep(2500);
    expect(await fleet.getBroker(target, s.key)).toMatchObject({ running: false, state: 'stopped' });
    await fleet.removeBroker(target, s.key);
  }, 90_000);

  it('backs off a broker that cannot start and reports the crash loop with the reason', async () => {
    const local = await buildZoneAgent({
      zone: 'az-2',
      host: '127.0.0.1',
      port: 0,
      dataDir: join(dataDir, 'az-2'),
      secret,
      superviseEveryMs: 100,
      restartPolicy: {
        baseBackoffMs: 100,
        maxBackoffMs: 400,
        crashLoopRestarts: 3,
        windowMs: 60_000,
        crashLoopPauseMs: 60_000,
      },
    });
    try {
      // An invalid setting: the broker refuses to start, every time.
      const bad: BrokerSpec = {
        ...spec,
        key: 'ins-bad-b1',
        properties: { 'node.id': '1', 'num.partitions': 'many' },
      };
      await expect(local.processes.ensure(bad)).rejects.toThrow(/exited during start-up/);
      const looping = await until(60_000, async () => {
        const h = await local.processes.handle(bad.key);
        return h?.state === 'crash-loop' ? h : undefined;
      });
      expect(looping.restarts).toBe(3);
      expect(looping.lastError).toContain('num.partitions');
      await local.processes.remove(bad.key);
    } finally {
      await local.app.close();
    }
  }, 90_000);
});

describe('broker ports', () => {
  it('come from the configured range, listeners and metrics alike, and never twice', async () => {
    const local = await buildZoneAgent({
      zone: 'az-3',
      host: '127.0.0.1',
      port: 0,
      dataDir: join(dataDir, 'az-3'),
      secret,
      brokerPorts: { from: 26200, to: 26299 },
    });
    try {
      const a = await local.processes.ensure({ ...spec, key: 'ins-ports-b1' });
      const b = await local.processes.ensure({
        ...spec,
        key: 'ins-ports-b2',
        brokerId: 2,
        properties: { 'node.id': '2' },
      });
      const all = [...Object.values(a.ports), a.metricsPort, ...Object.values(b.ports), b.metricsPort];
      expect(new Set(all).size).toBe(all.length);
      for (const p of all) expect(p >= 26200 && p <= 26299, String(p)).toBe(true);
      await local.processes.remove(a.key);
      await local.processes.remove(b.key);
    } finally {
      await local.app.close();
    }
  }, 90_000);
});

async function until<T>(timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(200);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
