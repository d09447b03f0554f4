import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RestClient } from '@fjord/test-support/api';
import { startTestService, type TestService, waitForOperation } from '@fjord/test-support/service';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let s: TestService;

async function expectSucceeded(operationId: string, timeoutMs?: number) {
  const op = await waitForOperation(client, operationId, timeoutMs);
  expect(op.status, `${op.kind}: ${JSON.stringify(op.error)}`).toBe('succeeded');
  return op;
}
let client: RestClient;

/** The metadata store URL each running broker was given, read from its server.properties. */
async function brokerMetadataUrls(): Promise<string[]> {
  const handles = (await Promise.all(s.agents.map((a) => a.processes.list()))).flat();
  return handles.map((h) => {
    const file = join(dirname(h.dataDir), 'server.properties');
    expect(statSync(file).mode & 0o077, `${file} is readable by others`).toBe(0);
    const line = readFileSync(file, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('fjord.metadata.database.url='));
    return line!.slice('fjord.metadata.database.url='.length);
  });
}

async function query(url: string, sql: string, params: unknown[] = []) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/**
 * Every broker runs on the instance's own PostgreSQL role (ADR 0013), with a password, not the
 * control plane's credential; that role reads its instance's metadata and no control-plane table.
 */
async function expectIsolatedMetadataStore(instanceId: string, brokers: number): Promise<void> {
  const role = `fjord_md_${instanceId.replace(/-/g, '_')}`;
  const urls = await brokerMetadataUrls();
  expect(urls).toHaveLength(brokers);
  expect(new Set(urls).size).toBe(1);
  const url = new URL(urls[0]!);
  const control = new URL(s.t.databaseUrl);
  expect(url.username).toBe(role);
  expect(url.password.length).toBeGreaterThanOrEqual(32);
  expect(url.username).not.toBe(control.username);
  expect(`${url.host}${url.pathname}`).toBe(`${control.host}${control.pathname}`);
  const own = await query(urls[0]!, 'SELECT current_user AS u, count(*)::int AS n FROM "MetadataLog"');
  expect(own[0].u).toBe(role);
  expect(own[0].n).toBeGreaterThan(0);
  await expect(query(urls[0]!, 'SELECT * FROM public."Instance"')).rejects.toThrow(/permission denied/);
  await expect(query(urls[0]!, 'SELECT * FROM public."ApiKey"')).rejects.toThrow(/permission denied/);
  url.password = 'not-the-password';
  await expect(query(url.toString(), 'SELECT 1')).rejects.toThrow(/password authentication failed/);
}

beforeAll(async () => {
  s = await startTestService(3);
  client = (await s.t.tenant('lifecycle')).client;
}, 120_000);
afterAll(() => s?.close());

describe('instance lifecycle through the REST API, real brokers', () => {
  it('creates a 3-broker instance over 3 zones, adds a topic, resizes to 4, restarts, deletes', async () => {
    const started = Date.now();
    const created = await client.call('POST', '/v1/instances', {
      name: 'orders',
      zones: ['az-1', 'az-2', 'az-3'],
    });
    expect(created.status).toBe(202);
    const id = created.body.instance.id;
    const op = await waitForOperation(client, created.body.operation.id);
    expect(op.status, JSON.stringify(op.error)).toBe('succeeded');
    const readyMs = Date.now() - started;
    const ins = (await client.call('GET', `/v1/instances/${id}`)).body;
    expect(ins.status).toBe('running');
    expect(ins.brokers.map((b: { zone: string }) => b.zone).sort()).toEqual(['az-1', 'az-2', 'az-3']);
    expect(ins.bootstrapServers.map((b: { route: string }) => b.route)).toEqual(['internal', 'public']);
    console.log(`instance ready in ${readyMs} ms`);
    // The 10 s goal is measured by test/bench (RESULTS.md); here other test files share the two cores.
    expect(readyMs).toBeLessThan(30_000);

    // A topic: listed at once (creating), then read from the cluster itself.
    const topic = await client.call('POST', `/v1/instances/${id}/topics`, {
      name: 'events',
      partitions: 4,
      configs: { 'retention.ms': '3600000' },
    });
    expect(topic.status).toBe(202);
    expect((await client.call('GET', `/v1/instances/${id}/topics/events`)).body.status).toMatch(
      /creating|active/,
    );
    await expectSucceeded(topic.body.operation.id);
    const events = (await client.call('GET', `/v1/instances/${id}/topics/events`)).body;
    expect(events).toMatchObject({
      name: 'events',
      partitions: 4,
      status: 'active',
      configs: { 'retention.ms': '3600000' },
    });
    const down = await client.call('PATCH', `/v1/instances/${id}/topics/events`, { partitions: 2 });
    expect(down.status).toBe(422);
    const up = await client.call('PATCH', `/v1/instances/${id}/topics/events`, { partitions: 6 });
    expect(up.status).toBe(202);
    await expectSucceeded(up.body.operation.id);
    expect((await client.call('GET', `/v1/instances/${id}/topics/events`)).body.partitions).toBe(6);
    await expectIsolatedMetadataStore(id, 3);

    // A consumer reads (and a producer writes) all through the resize.
    const first = ins.bootstrapServers
      .find((b: { route: string }) => b.route === 'internal')
      .servers.split(',')[0];
    const kafka = new kafkajs.Kafka({ brokers: [first], logLevel: kafkajs.logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: 'resize-watch' });
    const producer = kafka.producer();
    let crashes = 0;
    const received = new Set<string>();
    consumer.on(consumer.events.CRASH, () => {
      crashes++;
    });
    await Promise.all([consumer.connect(), producer.connect()]);
    await consumer.subscribe({ topic: 'events', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        received.add(String(message.value));
      },
    });
    let sent = 0;
    let producing = true;
    const produced = (async () => {
      while (producing) {
        await producer.send({ topic: 'events', messages: [{ value: `m${sent}` }] });
        sent++;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const resized = await client.call('POST', `/v1/instances/${id}/resize`, { brokerCount: 4 });
    expect(resized.status).toBe(202);
    await expectSucceeded(resized.body.operation.id);
    producing = false;
    await produced;
    const until = Date.now() + 15_000;
    while (received.size < sent && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    await Promise.all([consumer.disconnect(), producer.disconnect()]);
    expect(sent).toBeGreaterThan(10);
    // Nothing lost (a redelivery after a partition moved is at-least-once, not an error).
    expect(received.size).toBe(sent);
    expect(crashes).toBe(0);
    const bigger = (await client.call('GET', `/v1/instances/${id}`)).body;
    expect(bigger.brokers).toHaveLength(4);
    // Existing replicas were spread onto the new broker.
    const layoutAdmin = new kafkajs.Kafka({ brokers: [first], logLevel: kafkajs.logLevel.NOTHING }).admin();
    await layoutAdmin.connect();
    const meta = await layoutAdmin.fetchTopicMetadata({ topics: ['events'] });
    await layoutAdmin.disconnect();
    expect(meta.topics[0]!.partitions.some((p) => p.replicas.includes(4))).toBe(true);
    expect(meta.topics[0]!.partitions.every((p) => p.isr.length === p.replicas.length)).toBe(true);
    expect(bigger.brokers.every((b: { status: string }) => b.status === 'running')).toBe(true);
    // The broker the resize added got the same credential; no client can read it from the brokers.
    await expectIsolatedMetadataStore(id, 4);
    const configAdmin = new kafkajs.Kafka({ brokers: [first], logLevel: kafkajs.logLevel.NOTHING }).admin();
    await configAdmin.connect();
    const described = await configAdmin.describeConfigs({
      resources: [{ type: kafkajs.ConfigResourceTypes.BROKER, name: '4' }],
      includeSynonyms: true,
    });
    await configAdmin.disconnect();
    const mdEntry = described.resources[0]!.configEntries.find(
      (e) => e.configName === 'fjord.metadata.database.url',
    );
    expect(mdEntry).toMatchObject({ configValue: null, isSensitive: true });
    expect(JSON.stringify(described)).not.toContain(new URL((await brokerMetadataUrls())[0]!).password);

    // A topic whose every replica must be in sync cannot survive a rolling restart: refused up front.
    const strict = await client.call('POST', `/v1/instances/${id}/topics`, {
      name: 'strict',
      partitions: 1,
      replicationFactor: 2,
      configs: { 'min.insync.replicas': '2' },
    });
    await expectSucceeded(strict.body.operation.id);
    const refused = await client.call('POST', `/v1/instances/${id}/restart`);
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toMatch(/strict/);
    const relaxed = await client.call('PATCH', `/v1/instances/${id}/topics/strict`, {
      configs: { 'min.insync.replicas': '1' },
    });
    await expectSucceeded(relaxed.body.operation.id);

    const restart = await client.call('POST', `/v1/instances/${id}/restart`);
    expect(restart.status).toBe(202);
    const restartOp = await expectSucceeded(restart.body.operation.id, 120_000);
    expect(restartOp.status).toBe('succeeded');
    expect(Object.keys(restartOp.progress).filter((k) => k.startsWith('restarted-broker-'))).toHaveLength(4);

    const before = (await Promise.all(s.agents.map((a) => a.processes.list()))).flat();
    expect(before).toHaveLength(4);
    const del = await client.call('DELETE', `/v1/instances/${id}`);
    expect(del.status).toBe(202);
    await expectSucceeded(del.body.operation.id);
    expect((await client.call('GET', `/v1/instances/${id}`)).status).toBe(404);
    expect((await Promise.all(s.agents.map((a) => a.processes.list()))).flat()).toHaveLength(0);
    for (const b of before) expect(existsSync(b.dataDir)).toBe(false);
    // The instance's metadata schema and role went with it.
    const role = `fjord_md_${id.replace(/-/g, '_')}`;
    const left = await query(
      s.t.databaseUrl,
      `SELECT (SELECT count(*)::int FROM pg_roles WHERE rolname = $1) AS roles,
              (SELECT count(*)::int FROM pg_namespace WHERE nspname = $1) AS schemas`,
      [role],
    );
    expect(left[0]).toEqual({ roles: 0, schemas: 0 });
  }, 240_000);
});
