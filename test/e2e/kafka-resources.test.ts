import { execFileSync } from 'node:child_process';
import type { RestClient } from '@fjord/test-support/api';
import { startTestService, type TestService, waitForOperation } from '@fjord/test-support/service';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let s: TestService;
let client: RestClient;
let instanceId: string;
let internal: string;

beforeAll(async () => {
  s = await startTestService(1);
  client = (await s.t.tenant('resources')).client;
  const created = await client.call('POST', '/v1/instances', {
    name: 'res',
    zones: ['az-1'],
    brokerCount: 1,
  });
  instanceId = created.body.instance.id;
  expect((await waitForOperation(client, created.body.operation.id)).status).toBe('succeeded');
  const ins = (await client.call('GET', `/v1/instances/${instanceId}`)).body;
  internal = ins.bootstrapServers.find((b: { route: string }) => b.route === 'internal').servers;
  const t = await client.call('POST', `/v1/instances/${instanceId}/topics`, {
    name: 'orders',
    partitions: 2,
  });
  expect((await waitForOperation(client, t.body.operation.id)).status).toBe('succeeded');
}, 120_000);
afterAll(() => s?.close());

describe('Kafka resources through the REST API', () => {
  it('what Kafka tools create shows up in the API (topics are read from the cluster)', async () => {
    const kafka = new kafkajs.Kafka({ brokers: [internal], logLevel: kafkajs.logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'made-by-kafka-tools', numPartitions: 1 }] });
    await admin.disconnect();
    const names = (await client.call('GET', `/v1/instances/${instanceId}/topics`)).body.items.map(
      (t: { name: string }) => t.name,
    );
    expect(names).toEqual(['made-by-kafka-tools', 'orders']);
  });

  it('consumer groups: members and lag, and offsets reset while the group is empty', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => `m${i}`).join('\n');
    execFileSync('kcat', ['-b', internal, '-t', 'orders', '-P', '-p', '0'], { input: `${lines}\n` });
    const kafka = new kafkajs.Kafka({ brokers: [internal], logLevel: kafkajs.logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: 'billing', sessionTimeout: 10_000 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    let seen = 0;
    await consumer.run({
      eachMessage: async () => {
        seen++;
      },
    });
    const deadline = Date.now() + 20_000;
    while (seen < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(seen).toBe(10);
    const live = (await client.call('GET', `/v1/instances/${instanceId}/consumer-groups/billing`)).body;
    expect(live.members).toHaveLength(1);
    expect(live.members[0].assignments).toEqual(['orders']);
    const busy = await client.call(
      'POST',
      `/v1/instances/${instanceId}/consumer-groups/billing/reset-offsets`,
      { topic: 'orders', to: 'earliest' },
    );
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe('group_not_empty');
    await consumer.disconnect();

    const listed = (await client.call('GET', `/v1/instances/${instanceId}/consumer-groups`)).body.items;
    expect(listed.map((g: { groupId: string }) => g.groupId)).toContain('billing');
    const idle = (await client.call('GET', `/v1/instances/${instanceId}/consumer-groups/billing`)).body;
    expect(idle.members).toEqual([]);
    expect(idle.lag.find((l: { partition: number }) => l.partition === 0)).toMatchObject({
      committedOffset: 10,
      endOffset: 10,
      lag: 0,
    });
    const reset = await client.call(
      'POST',
      `/v1/instances/${instanceId}/consumer-groups/billing/reset-offsets`,
      { topic: 'orders', to: 'offset', offset: 4 },
    );
    expect(reset.status).toBe(202);
    expect((await waitForOperation(client, reset.body.operation.id)).status).toBe('succeeded');
    const after = (await client.call('GET', `/v1/instances/${instanceId}/consumer-groups/billing`)).body;
    expect(after.lag.find((l: { partition: number }) => l.partition === 0)).toMatchObject({
      committedOffset: 4,
      lag: 6,
    });
  }, 60_000);

  it('messages: produce over HTTP, read pages by offset, timestamp and latest', async () => {
    const base = `/v1/instances/${instanceId}/topics/orders`;
    const sent: number[] = [];
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) {
      const r = await client.call('POST', `${base}/messages`, {
        partition: 1,
        key: `k${i}`,
        value: `v${i}`,
        headers: { h: String(i) },
      });
      expect(r.status).toBe(200);
      sent.push(r.body.offset);
    }
    expect(sent).toEqual([0, 1, 2, 3, 4]);
    const page = (await client.call('GET', `${base}/partitions/1/messages?offset=1&limit=2`)).body;
    expect(page.messages.map((m: { value: string }) => m.value)).toEqual(['v1', 'v2']);
    expect(page.messages[0]).toMatchObject({ partition: 1, offset: 1, key: 'k1', headers: { h: '1' } });
    expect(page).toMatchObject({ nextOffset: 3, highWatermark: 5 });
    const byTime = (await client.call('GET', `${base}/partitions/1/messages?timestamp=${t0}`)).body;
    expect(byTime.messages.map((m: { offset: number }) => m.offset)).toEqual([0, 1, 2, 3, 4]);
    const future = (
      await client.call('GET', `${base}/partitions/1/messages?timestamp=${Date.now() + 60_000}`)
    ).body;
    expect(future.messages).toEqual([]);
    const latest = (await client.call('GET', `${base}/partitions/1/messages?latest=2`)).body;
    expect(latest.messages.map((m: { value: string }) => m.value)).toEqual(['v3', 'v4']);
    expect((await client.call('GET', `${base}/partitions/7/messages`)).status).toBe(404);
    expect((await client.call('GET', `${base}/partitions/1/messages?offset=1&latest=2`)).status).toBe(400);
  });

  it('SASL users go through AlterUserScramCredentials and are read back from the cluster; the password is not kept', async () => {
    const r = await client.call('POST', `/v1/instances/${instanceId}/users`, {
      name: 'alice',
      password: 'alice-secret-1',
    });
    expect(r.status).toBe(202);
    expect((await waitForOperation(client, r.body.operation.id)).status).toBe('succeeded');
    const users = (await client.call('GET', `/v1/instances/${instanceId}/users`)).body.items;
    expect(users).toEqual([{ name: 'alice', mechanisms: ['SCRAM-SHA-512'], status: 'active' }]);
    const op = await s.t.prisma.operation.findUniqueOrThrow({ where: { id: r.body.operation.id } });
    expect(JSON.stringify(op.input)).not.toContain('passwordSealed');
  });
});

describe('what changes nothing starts nothing; what cannot succeed is refused before the 202', () => {
  const operationsOf = () => s.t.prisma.operation.count({ where: { instanceId } });

  it('an unchanged topic PATCH answers 200 with the topic: no operation, no audit event', async () => {
    const base = `/v1/instances/${instanceId}/topics/orders`;
    const set = await client.call('PATCH', base, { configs: { 'retention.ms': '3600000' } });
    expect(set.status).toBe(202);
    expect((await waitForOperation(client, set.body.operation.id)).status).toBe('succeeded');
    const before = await operationsOf();
    const current = (await client.call('GET', base)).body;
    expect(current).toMatchObject({
      partitions: 2,
      configs: { 'retention.ms': '3600000' },
      operationId: null,
    });
    for (const same of [
      { partitions: 2 },
      { configs: { 'retention.ms': '3600000' } },
      { partitions: 2, configs: { 'retention.ms': '3600000' } },
    ]) {
      const r = await client.call('PATCH', base, same);
      expect(r.status).toBe(200);
      expect(r.body).toEqual(current);
    }
    expect(await operationsOf()).toBe(before);
    const audit = (await client.call('GET', `/v1/audit-events?resource=instance/${instanceId}/topic/orders`))
      .body.items;
    expect(audit.filter((e: { action: string }) => e.action === 'ModifyTopic')).toHaveLength(1);
  });

  it('a reset of offsets on a topic the instance lacks is 422 naming the topic, and starts nothing', async () => {
    const before = await operationsOf();
    const r = await client.call('POST', `/v1/instances/${instanceId}/consumer-groups/billing/reset-offsets`, {
      topic: 'no-such-topic',
      to: 'earliest',
    });
    expect(r.status).toBe(422);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body.errors).toEqual([{ path: '/topic', message: 'no such topic', code: 'not_found' }]);
    expect(r.body.detail).toContain('no-such-topic');
    expect(await operationsOf()).toBe(before);
  });

  it('resets to latest and earliest commit the resolved offsets: a new consumer starts where the reset put it', async () => {
    const groupUrl = `/v1/instances/${instanceId}/consumer-groups/billing`;
    const ends = new Map<number, number>(
      (await client.call('GET', groupUrl)).body.lag.map((l: { partition: number; endOffset: number }) => [
        l.partition,
        l.endOffset,
      ]),
    );
    expect(ends.get(0)).toBeGreaterThan(0);
    const reset = async (to: 'latest' | 'earliest') => {
      const r = await client.call('POST', `${groupUrl}/reset-offsets`, { topic: 'orders', to });
      expect(r.status).toBe(202);
      expect((await waitForOperation(client, r.body.operation.id)).status).toBe('succeeded');
      return (await client.call('GET', groupUrl)).body.lag.filter(
        (l: { topic: string }) => l.topic === 'orders',
      );
    };
    const atLatest = await reset('latest');
    expect(atLatest.length).toBe(2);
    for (const l of atLatest) expect(l).toMatchObject({ committedOffset: l.endOffset, lag: 0 });

    // A consumer that would start from the beginning without a committed offset reads only what
    // comes after the reset: the marker produced once it has joined.
    const kafka = new kafkajs.Kafka({ brokers: [internal], logLevel: kafkajs.logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: 'billing', sessionTimeout: 10_000 });
    const seen: string[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: 'orders', fromBeginning: true });
      const joined = new Promise<void>((res) => consumer.on(consumer.events.GROUP_JOIN, () => res()));
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value?.toString() ?? '');
        },
      });
      await joined;
      execFileSync('kcat', ['-b', internal, '-t', 'orders', '-P', '-p', '0'], { input: 'after-reset\n' });
      const deadline = Date.now() + 30_000;
      while (!seen.includes('after-reset') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(seen).toEqual(['after-reset']);
    } finally {
      await consumer.disconnect();
    }

    const atEarliest = await reset('earliest');
    for (const l of atEarliest) expect(l).toMatchObject({ committedOffset: 0, lag: l.endOffset });
  }, 90_000);

  it('a partition limit below the partitions in use is 422; at them it is a resize', async () => {
    const used = (await client.call('GET', `/v1/instances/${instanceId}/topics?limit=100`)).body.items.reduce(
      (n: number, t: { partitions: number }) => n + t.partitions,
      0,
    );
    expect(used).toBeGreaterThan(1);
    const before = await operationsOf();
    const below = await client.call('POST', `/v1/instances/${instanceId}/resize`, {
      spec: { partitionLimit: used - 1 },
    });
    expect(below.status).toBe(422);
    expect(below.body.errors).toEqual([
      { path: '/spec/partitionLimit', message: `must be at least ${used}`, code: 'too_small' },
    ]);
    expect(await operationsOf()).toBe(before);
    const at = await client.call('POST', `/v1/instances/${instanceId}/resize`, {
      spec: { partitionLimit: used },
    });
    expect(at.status).toBe(202);
    expect((await waitForOperation(client, at.body.operation.id)).status).toBe('succeeded');
    expect((await client.call('GET', `/v1/instances/${instanceId}`)).body.spec.partitionLimit).toBe(used);
  }, 90_000);
});
