import { type RestClient, startTestApi, type TestApi } from '@fjord/test-support/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let t: TestApi;
let owner: { client: RestClient; accountId: string };
let instanceId: string;
const path = () => `/v1/instances/${instanceId}/autoscaling-policy`;

const policy = {
  minBrokers: 3,
  maxBrokers: 6,
  minBandwidthMBps: 20,
  maxBandwidthMBps: 200,
  targetBandwidthPercent: 60,
  holdSeconds: 120,
  cooldownSeconds: 600,
};

beforeAll(async () => {
  t = await startTestApi();
  const operator = await t.operator();
  for (const zone of ['az-1', 'az-2', 'az-3'])
    expect(
      (await operator.call('PUT', `/v1/zones/${zone}`, { capacity: 100, agentUrl: 'http://127.0.0.1:1' }))
        .status,
    ).toBe(200);
  owner = await t.tenant('scaler');
  const created = await owner.client.call('POST', '/v1/instances', {
    name: 'elastic',
    zones: ['az-1', 'az-2', 'az-3'],
    brokerCount: 3,
  });
  expect(created.status).toBe(202);
  instanceId = created.body.instance.id;
});
afterAll(() => t?.close());

/** The field paths a problem+json names. */
const fieldsOf = (r: { status: number; headers: Headers; body: { errors?: { path: string }[] } }) => {
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return (r.body.errors ?? []).map((e) => e.path);
};

describe('autoscaling policy over REST', () => {
  it('refuses bad policies with problem+json naming the field, and creates nothing', async () => {
    const bad = async (body: object) => owner.client.call('PUT', path(), { ...policy, ...body });
    let r = await bad({ minBrokers: 5, maxBrokers: 4 });
    expect(r.status).toBe(400);
    expect(fieldsOf(r)).toEqual(['/minBrokers']);
    r = await bad({ maxBrokers: 13 });
    expect(r.status).toBe(400);
    expect(fieldsOf(r)).toEqual(['/maxBrokers']);
    r = await bad({ minBandwidthMBps: 300 });
    expect(fieldsOf(r)).toEqual(['/minBandwidthMBps']);
    r = await bad({ maxBandwidthMBps: 20_000, targetBandwidthPercent: 99, holdSeconds: 1 });
    expect(fieldsOf(r).sort()).toEqual(['/holdSeconds', '/maxBandwidthMBps', '/targetBandwidthPercent']);
    // Fewer brokers than the instance's zones is never a size it can take.
    r = await bad({ minBrokers: 2 });
    expect(r.status).toBe(422);
    expect(fieldsOf(r)).toEqual(['/minBrokers']);
    expect((await owner.client.call('GET', path())).status).toBe(404);
  });

  it('creates, reads with an ETag, replaces under If-Match, deletes; every change audited', async () => {
    const created = await owner.client.call('PUT', path(), policy);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      ...policy,
      instanceId,
      enabled: true,
      targetDiskPercent: 75,
      lastRefusal: null,
      version: 1,
    });
    const etag = created.headers.get('etag')!;
    const got = await owner.client.call('GET', path());
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe(etag);
    expect(got.body).toEqual(created.body);

    const replaced = await owner.client.call(
      'PUT',
      path(),
      { ...policy, maxBrokers: 9 },
      { 'if-match': etag },
    );
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ maxBrokers: 9, version: 2 });
    const stale = await owner.client.call('PUT', path(), { ...policy, enabled: false }, { 'if-match': etag });
    expect(stale.status).toBe(412);
    expect((await owner.client.call('GET', path())).body.enabled).toBe(true);
    expect((await owner.client.call('DELETE', path(), undefined, { 'if-match': etag })).status).toBe(412);

    const events = await owner.client.call(
      'GET',
      `/v1/audit-events?resource=instance/${instanceId}/autoscaling-policy`,
    );
    expect(events.body.items.map((e: { action: string }) => e.action)).toEqual([
      'PutAutoscalingPolicy',
      'PutAutoscalingPolicy',
    ]);
    expect(events.body.items[0].details).toMatchObject({ maxBrokers: 9 });

    expect(
      (await owner.client.call('DELETE', path(), undefined, { 'if-match': replaced.headers.get('etag')! }))
        .status,
    ).toBe(204);
    expect((await owner.client.call('GET', path())).status).toBe(404);
    const after = await owner.client.call(
      'GET',
      `/v1/audit-events?resource=instance/${instanceId}/autoscaling-policy`,
    );
    expect(after.body.items[0].action).toBe('DeleteAutoscalingPolicy');
  });

  it('recommends nothing while the instance is busy or unobservable, and says why', async () => {
    expect((await owner.client.call('PUT', path(), policy)).status).toBe(201);
    const recommend = () => owner.client.call('GET', `${path()}/recommendation`);
    // Still being created (no worker runs in this test).
    let r = await recommend();
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      instanceId,
      decision: { action: 'none', brokerCount: 3, bandwidthMBps: 40 },
      reason: 'the instance is creating',
    });
    const op = await t.prisma.operation.findFirstOrThrow({ where: { instanceId } });
    await t.prisma.instance.update({ where: { id: instanceId }, data: { status: 'RUNNING' } });
    r = await recommend();
    expect(r.body.reason).toBe(`another operation is running on the instance (${op.id}, instance.create)`);
    await t.prisma.operation.update({ where: { id: op.id }, data: { status: 'SUCCEEDED' } });
    r = await recommend();
    // This API runs without Prometheus: nothing to decide from.
    expect(r.body).toMatchObject({
      decision: { action: 'none' },
      reason: 'utilisation cannot be read: this deployment has no Prometheus',
      observed: { bandwidth: { mbps: null, specMBps: 40, targetPercent: 60 }, disk: { targetPercent: 75 } },
    });
  });

  it('is 404 to another tenant and 403 to a sub-account without the autoscaling actions', async () => {
    const other = await t.tenant('stranger');
    for (const [method, url, body] of [
      ['GET', path(), undefined],
      ['PUT', path(), policy],
      ['DELETE', path(), undefined],
      ['GET', `${path()}/recommendation`, undefined],
    ] as const) {
      const r = await other.client.call(method, url, body);
      expect(r.status, `${method} ${url}`).toBe(404);
    }
    // Read-only access: may describe, may not modify.
    const sub = (await owner.client.call('POST', '/v1/sub-accounts', { name: 'viewer' })).body;
    const describeOnly = (
      await owner.client.call('POST', '/v1/policies', {
        name: 'describe-only',
        effect: 'allow',
        actions: ['kafka:Describe*'],
        resources: ['instance/*'],
      })
    ).body;
    expect(
      (await owner.client.call('PUT', `/v1/sub-accounts/${sub.id}/policies/${describeOnly.id}`)).status,
    ).toBe(204);
    const key = (await owner.client.call('POST', '/v1/api-keys', { subAccountId: sub.id })).body;
    const viewer = await t.anonymous.login(key.id, key.secret);
    expect((await viewer.call('GET', path())).status).toBe(200);
    expect((await viewer.call('PUT', path(), policy)).status).toBe(403);
    expect((await viewer.call('DELETE', path())).status).toBe(403);
  });
});
