import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrokerSpec, ZoneAgentClient } from '@fjord/fleet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZoneAgent } from '../src/agent.js';

const dataDir = mkdtempSync(join(tmpdir(), 'fjord-agent-'));
const secret = 'agent-test-secret';
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
    const first = await fleet.ensureBroker('az-1', spec);
    expect(first).toMatchObject({ running: true, reachable: true, brokerId: 1 });
    expect((await fleet.ensureBroker('az-1', spec)).pid).toBe(first.pid);
    // Its own metrics port, not a listener; the broker serves Prometheus text there.
    expect(first.metricsPort).toBeGreaterThan(0);
    expect(Object.values(first.ports)).not.toContain(first.metricsPort);
    const scraped = await fetch(`http://127.0.0.1:${first.metricsPort}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('kafka_server_replicamanager_partitioncount');

    // The agent goes away and comes back: the broker kept running and is found again.
    await agent.app.close();
    fleet = await start();
    const listed = await fleet.listBrokers('az-1');
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ key: spec.key, pid: first.pid, running: true });
    const health = await fleet.health('az-1');
    expect(health.brokers).toBe(1);
    expect(health.diskFreeBytes).toBeGreaterThan(0);

    await fleet.stopBroker('az-1', spec.key);
    expect((await fleet.getBroker('az-1', spec.key))?.running).toBe(false);
    const again = await fleet.ensureBroker('az-1', spec);
    expect(again.ports).toEqual(first.ports);
    expect(again.metricsPort).toBe(first.metricsPort);
    expect((await fetch(`http://127.0.0.1:${again.metricsPort}/metrics`)).status).toBe(200);
    expect(again.pid).not.toBe(first.pid);

    await fleet.removeBroker('az-1', spec.key);
    expect(await fleet.getBroker('az-1', spec.key)).toBeUndefined();
    expect(existsSync(first.dataDir)).toBe(false);
    await fleet.removeBroker('az-1', spec.key);
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
