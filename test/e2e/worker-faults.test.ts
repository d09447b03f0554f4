import { existsSync } from 'node:fs';
import type { RestClient } from '@fjord/test-support/api';
import { startTestService, type TestService, waitForOperation } from '@fjord/test-support/service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let s: TestService;
let client: RestClient;
/**
 * How long an operation may take here. A loaded machine makes the handover to the next worker, and
 * every broker start, slow, not wrong: each wait is generous (a stuck operation still fails it).
 */
const OPERATION_MS = 180_000;

beforeAll(async () => {
  s = await startTestService(3);
  await s.stopWorker();
  client = (await s.t.tenant('faults')).client;
}, 120_000);
afterAll(() => s?.close());

/** Starts a worker that SIGKILLs itself at `point`, waits for it to die, then starts a healthy one. */
async function killAt(point: string): Promise<void> {
  const w = s.startWorker({ FJORD_FAULT_KILL: point });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker never reached ${point}`)), OPERATION_MS);
    w.once('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`worker exited (${signal ?? _code}) before ${point}`));
    });
  });
  s.startWorker();
}

async function brokersOf(instanceId: string) {
  return (await Promise.all(s.agents.map((a) => a.processes.list())))
    .flat()
    .filter((b) => b.instanceId === instanceId);
}

async function expectHealthy(instanceId: string, count: number) {
  const ins = (await client.call('GET', `/v1/instances/${instanceId}`)).body;
  expect(ins.status).toBe('running');
  expect(ins.brokers).toHaveLength(count);
  expect(ins.brokers.filter((b: { status: string }) => b.status !== 'running')).toEqual([]);
  const procs = await brokersOf(instanceId);
  expect(procs.map((p) => p.brokerId).sort()).toEqual(ins.brokers.map((b: { id: number }) => b.id).sort());
  expect(
    procs
      .filter((p) => !p.running || !p.reachable)
      .map((p) => `${p.key} running=${p.running} reachable=${p.reachable}`),
  ).toEqual([]);
  const ops = await s.t.prisma.operation.findMany({ where: { instanceId } });
  expect(ops.every((o) => o.status === 'SUCCEEDED')).toBe(true);
}

async function remove(instanceId: string) {
  const del = await client.call('DELETE', `/v1/instances/${instanceId}`);
  expect((await waitForOperation(client, del.body.operation.id, OPERATION_MS)).status).toBe('succeeded');
  expect(await brokersOf(instanceId)).toEqual([]);
}

describe('a worker killed at any step of create or resize', () => {
  for (const [i, point] of [
    'after:metadata-store',
    'before:start-broker-1',
    'after:start-broker-2',
    'after:ready-broker-3',
  ].entries()) {
    it(`create: killed at ${point}, finishes once with nothing orphaned`, async () => {
      await s.stopWorker();
      const created = await client.call('POST', '/v1/instances', {
        name: `create-${i}`,
        zones: ['az-1', 'az-2', 'az-3'],
      });
      expect(created.status).toBe(202);
      await killAt(point);
      const op = await waitForOperation(client, created.body.operation.id, OPERATION_MS);
      expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
      await expectHealthy(created.body.instance.id, 3);
      await remove(created.body.instance.id);
    }, 300_000);
  }

  it('resize: killed before and after starting the new broker, and after it is ready', async () => {
    if (!s.worker) s.startWorker();
    const created = await client.call('POST', '/v1/instances', {
      name: 'resize',
      zones: ['az-1', 'az-2'],
      brokerCount: 2,
    });
    const id = created.body.instance.id;
    expect((await waitForOperation(client, created.body.operation.id, OPERATION_MS)).status).toBe(
      'succeeded',
    );
    let count = 2;
    for (const step of ['before:start-broker', 'after:start-broker', 'after:ready-broker']) {
      count += 1;
      await s.stopWorker();
      const r = await client.call('POST', `/v1/instances/${id}/resize`, { brokerCount: count });
      expect(r.status).toBe(202);
      await killAt(`${step}-${count}`);
      const op = await waitForOperation(client, r.body.operation.id, OPERATION_MS);
      expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
      await expectHealthy(id, count);
    }
    await remove(id);
  }, 600_000);

  it('scale in: killed after the drain and after stopping a leaving broker, the next worker finishes', async () => {
    if (!s.worker) s.startWorker();
    const created = await client.call('POST', '/v1/instances', {
      name: 'shrink',
      zones: ['az-1', 'az-2', 'az-3'],
    });
    const id = created.body.instance.id;
    expect((await waitForOperation(client, created.body.operation.id, OPERATION_MS)).status).toBe(
      'succeeded',
    );
    const topic = await client.call('POST', `/v1/instances/${id}/topics`, { name: 'kept', partitions: 6 });
    expect((await waitForOperation(client, topic.body.operation.id, OPERATION_MS)).status).toBe('succeeded');
    const grow = await client.call('POST', `/v1/instances/${id}/resize`, { brokerCount: 5 });
    expect((await waitForOperation(client, grow.body.operation.id, OPERATION_MS)).status).toBe('succeeded');
    // az-2 holds brokers 2 and 5, az-1 holds 1 and 4: 5 leaves first, then 4.
    for (const [count, point] of [
      [4, 'after:drained'],
      [3, 'after:stopped-broker-4'],
    ] as const) {
      await s.stopWorker();
      const r = await client.call('POST', `/v1/instances/${id}/resize`, { brokerCount: count });
      expect(r.status).toBe(202);
      await killAt(point);
      const op = await waitForOperation(client, r.body.operation.id, OPERATION_MS);
      expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
      await expectHealthy(id, count);
      expect((await client.call('GET', `/v1/instances/${id}`)).body.brokerCount).toBe(count);
    }
    const kept = (await client.call('GET', `/v1/instances/${id}/topics/kept`)).body;
    expect(kept).toMatchObject({ partitions: 6, replicationFactor: 2 });
    await remove(id);
  }, 600_000);

  it('delete: killed after removing the first broker, the next worker removes the rest', async () => {
    if (!s.worker) s.startWorker();
    const created = await client.call('POST', '/v1/instances', {
      name: 'doomed',
      zones: ['az-1', 'az-2', 'az-3'],
    });
    const id = created.body.instance.id;
    expect((await waitForOperation(client, created.body.operation.id, OPERATION_MS)).status).toBe(
      'succeeded',
    );
    const dirs = (await brokersOf(id)).map((b) => b.dataDir);
    await s.stopWorker();
    const del = await client.call('DELETE', `/v1/instances/${id}`);
    await killAt('after:remove-broker-1');
    expect((await waitForOperation(client, del.body.operation.id, OPERATION_MS)).status).toBe('succeeded');
    expect(await brokersOf(id)).toEqual([]);
    for (const d of dirs) expect(existsSync(d)).toBe(false);
    expect((await client.call('GET', `/v1/instances/${id}`)).status).toBe(404);
    expect(await s.t.prisma.brokerPlacement.count({ where: { instanceId: id } })).toBe(0);
    expect(await s.t.prisma.metadataLog.count({ where: { clusterId: id } })).toBe(0);
  }, 360_000);

  it('rolling restart: per-broker progress survives a worker killed between brokers', async () => {
    if (!s.worker) s.startWorker();
    const created = await client.call('POST', '/v1/instances', {
      name: 'restart',
      zones: ['az-1', 'az-2', 'az-3'],
    });
    const id = created.body.instance.id;
    expect((await waitForOperation(client, created.body.operation.id, OPERATION_MS)).status).toBe(
      'succeeded',
    );
    const pidsBefore = new Map((await brokersOf(id)).map((b) => [b.brokerId, b.pid]));
    await s.stopWorker();
    const r = await client.call('POST', `/v1/instances/${id}/restart`);
    expect(r.status).toBe(202);
    await killAt('after:restarted-broker-2');
    const killedAt = await s.t.prisma.operation.findUniqueOrThrow({ where: { id: r.body.operation.id } });
    const progress = killedAt.progress as Record<string, string>;
    expect(Object.keys(progress).sort()).toEqual(['restarted-broker-1', 'restarted-broker-2']);
    const op = await waitForOperation(client, r.body.operation.id, OPERATION_MS);
    expect(op.status).toBe('succeeded');
    // Brokers 1 and 2 were not restarted again: their recorded times are the ones from before the kill.
    expect(op.progress['restarted-broker-1']).toBe(progress['restarted-broker-1']);
    expect(op.progress['restarted-broker-2']).toBe(progress['restarted-broker-2']);
    expect(op.progress['restarted-broker-3']).toBeDefined();
    const after = await brokersOf(id);
    for (const b of after) expect(b.pid).not.toBe(pidsBefore.get(b.brokerId));
    await expectHealthy(id, 3);
    await remove(id);
  }, 360_000);
});
