import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { verifyWebhook } from '@fjord/monitoring';
import type { RestClient } from '@fjord/test-support/api';
import {
  eventually,
  type MonitoredService,
  prometheusApi,
  startMonitoredService,
} from '@fjord/test-support/monitoring';
import { waitForOperation } from '@fjord/test-support/service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const PARTITIONS = 3;
const PER_PARTITION = 100;
const VALUE = 'x'.repeat(100);

let s: MonitoredService;
let tenant: { client: RestClient; accountId: string };
let instanceId: string;
let bootstrap: string;

/** A webhook receiver: every call with its raw body and headers. */
let hooks: Server;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  s = await startMonitoredService(3);
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  tenant = await s.t.tenant('watcher');
  const created = await tenant.client.call('POST', '/v1/instances', {
    name: 'watched',
    zones: ['az-1'],
    brokerCount: 1,
  });
  expect(created.status).toBe(202);
  instanceId = created.body.instance.id;
  expect((await waitForOperation(tenant.client, created.body.operation.id)).status).toBe('succeeded');
  const ins = (await tenant.client.call('GET', `/v1/instances/${instanceId}`)).body;
  bootstrap = ins.bootstrapServers.find((b: { route: string }) => b.route === 'internal').servers;
  const topic = await tenant.client.call('POST', `/v1/instances/${instanceId}/topics`, {
    name: 'events',
    partitions: PARTITIONS,
  });
  expect((await waitForOperation(tenant.client, topic.body.operation.id)).status).toBe('succeeded');
}, 180_000);

afterAll(async () => {
  hooks?.close();
  await s?.close();
});

async function kcat(args: string[], input?: string) {
  const p = run('kcat', ['-b', bootstrap, '-m', '15', ...args], { timeout: 60_000 });
  if (input !== undefined) {
    p.child.stdin?.write(input);
    p.child.stdin?.end();
  }
  return p;
}

const since = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();

/** The latest non-null value of each series, by its labels. */
function latest(body: { series: { labels: Record<string, string>; points: [number, number | null][] }[] }) {
  return Object.fromEntries(
    body.series.map((x) => [
      JSON.stringify(x.labels),
      [...x.points].reverse().find(([, v]) => v !== null)?.[1] ?? null,
    ]),
  );
}

describe('monitoring with a real Prometheus', () => {
  it('discovers the broker and charts what kcat produced, at instance, topic and partition level', async () => {
    // A rate needs the counter seen before and after the traffic: produce once the broker is scraped.
    await eventually('the broker scraped', 60_000, async () => {
      const t = await prometheusApi<{ activeTargets: { labels: Record<string, string>; health: string }[] }>(
        s.stack,
        '/api/v1/targets?state=active',
      );
      return t.activeTargets.some((x) => x.labels.instance === instanceId && x.health === 'up')
        ? true
        : undefined;
    });
    for (let p = 0; p < PARTITIONS; p++)
      await kcat(['-t', 'events', '-P', '-p', String(p)], `${Array(PER_PARTITION).fill(VALUE).join('\n')}\n`);
    const q = (metric: string, extra = '') =>
      tenant.client.call(
        'GET',
        `/v1/instances/${instanceId}/metrics/${metric}?from=${since(300)}&step=5${extra}`,
      );

    const bytesIn = await eventually('bytes in charted', 60_000, async () => {
      const r = await q('instance.bytes_in');
      expect(r.status).toBe(200);
      const values = r.body.series.flatMap((x: { points: [number, number | null][] }) =>
        x.points.map(([, v]) => v ?? 0),
      );
      return values.some((v: number) => v > 0) ? r.body : undefined;
    });
    expect(bytesIn).toMatchObject({
      metric: 'instance.bytes_in',
      level: 'instance',
      unit: 'bytes/s',
      step: 5,
    });

    const offsets = await eventually('every partition at its end offset', 60_000, async () => {
      const r = await q('partition.log_end_offset', '&topic=events');
      const l = latest(r.body);
      return Object.keys(l).length === PARTITIONS && Object.values(l).every((v) => v === PER_PARTITION)
        ? l
        : undefined;
    });
    for (let p = 0; p < PARTITIONS; p++)
      expect(offsets[JSON.stringify({ topic: 'events', partition: String(p) })]).toBe(PER_PARTITION);

    const topicIn = await eventually('topic messages in', 60_000, async () => {
      const r = await q('topic.messages_in', '&topic=events');
      const points = r.body.series.flatMap((x: { points: [number, number | null][] }) => x.points);
      return points.some(([, v]: [number, number | null]) => (v ?? 0) > 0) ? r.body : undefined;
    });
    expect(topicIn.series.map((x: { labels: Record<string, string> }) => x.labels)).toEqual([
      { topic: 'events' },
    ]);

    // The target carries the labels operators and dashboards select on.
    const targets = await prometheusApi<{
      activeTargets: { labels: Record<string, string>; health: string }[];
    }>(s.stack, '/api/v1/targets?state=active');
    const broker = targets.activeTargets.find((t) => t.labels.instance === instanceId);
    expect(broker?.labels).toMatchObject({
      account: tenant.accountId,
      broker: '1',
      zone: 'az-1',
      job: 'fjord-brokers',
    });
    expect(broker?.health).toBe('up');
  }, 180_000);

  it('refuses bad queries with the field named', async () => {
    const base = `/v1/instances/${instanceId}/metrics`;
    const cases: [string, string][] = [
      [`${base}/instance.nope`, 'params/metric'],
      [`${base}/instance.bytes_in?step=1`, 'query/step'],
      [`${base}/instance.bytes_in?topic=events`, 'query/topic'],
      [`${base}/partition.consumer_lag?topic=events`, 'query/group'],
      [`${base}/topic.bytes_in?topic=a%22%7Dor%7Bx%3D%22`, 'query/topic'],
      [`${base}/instance.bytes_in?from=${since(60)}&to=${since(120)}`, 'query/from'],
      [`${base}/instance.bytes_in?from=${since(40 * 86_400)}`, 'query/from'],
      [`${base}/instance.bytes_in?from=${since(86_400)}&step=5`, 'query/step'],
      [`${base}/instance.bytes_in?promql=up`, 'query'],
    ];
    for (const [path, field] of cases) {
      const r = await tenant.client.call('GET', path);
      expect(r.status, path).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(JSON.stringify(r.body.errors), path).toContain(field);
    }
    // The monitoring stack's own routes want its token: no forged alerts, no target lists.
    for (const [method, path] of [
      ['GET', '/internal/prometheus/targets?kind=broker'],
      ['POST', '/internal/alertmanager/alerts'],
      ['GET', '/internal/metrics'],
    ] as const) {
      const r = await tenant.client.call(
        method,
        path,
        method === 'POST' ? { status: 'firing', alerts: [] } : undefined,
      );
      expect(r.status, path).toBe(401);
    }
    // A group id with PromQL in it is only ever a label value: an empty chart, not an error.
    const crafted = await tenant.client.call(
      'GET',
      `${base}/group.lag?group=${encodeURIComponent('a"}or{x="')}&from=${since(120)}`,
    );
    expect(crafted.status).toBe(200);
    expect(crafted.body.series).toEqual([]);
  });

  it("keeps another tenant and a sub-account without the monitoring action out of the instance's metrics and alarms", async () => {
    const other = await s.t.tenant('outsider');
    for (const path of [
      `/v1/instances/${instanceId}/metrics/instance.bytes_in`,
      `/v1/instances/${instanceId}/alarm-policies`,
      `/v1/instances/${instanceId}/alarm-events`,
    ]) {
      const r = await other.client.call('GET', path);
      expect(r.status, path).toBe(404);
      expect(JSON.stringify(r.body)).not.toContain(tenant.accountId);
    }
    const sub = (await tenant.client.call('POST', '/v1/sub-accounts', { name: 'viewer' })).body;
    const policy = (
      await tenant.client.call('POST', '/v1/policies', {
        name: 'describe-only',
        effect: 'allow',
        actions: ['kafka:DescribeInstance', 'kafka:ListInstances'],
        resources: ['instance/*'],
      })
    ).body;
    expect((await tenant.client.call('PUT', `/v1/sub-accounts/${sub.id}/policies/${policy.id}`)).status).toBe(
      204,
    );
    const key = (await tenant.client.call('POST', '/v1/api-keys', { subAccountId: sub.id })).body;
    const viewer = await s.t.anonymous.login(key.id, key.secret);
    expect((await viewer.call('GET', `/v1/instances/${instanceId}`)).status).toBe(200);
    expect((await viewer.call('GET', `/v1/instances/${instanceId}/metrics/instance.bytes_in`)).status).toBe(
      403,
    );
    expect((await viewer.call('GET', `/v1/instances/${instanceId}/alarm-policies`)).status).toBe(403);
    expect(
      (
        await viewer.call('POST', `/v1/instances/${instanceId}/alarm-policies`, {
          name: 'sneaky',
          metric: 'instance.bytes_in',
          comparison: '>',
          threshold: 1,
        })
      ).status,
    ).toBe(403);
  });

  it('fires a lag alarm once with one signed notification, and resolves it once when the group catches up', async () => {
    const channel = await tenant.client.call('POST', '/v1/notification-channels', {
      name: 'ops-hook',
      type: 'webhook',
      url: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/alarms`,
    });
    expect(channel.status).toBe(201);
    expect(channel.body.secret).toMatch(/^whsec_/);
    expect(
      (await tenant.client.call('GET', `/v1/notification-channels/${channel.body.id}`)).body.secret,
    ).toBeUndefined();
    // Tenants cannot aim webhooks into the control plane's network (loopback is allowed for this test's receiver).
    const internal = await tenant.client.call('POST', '/v1/notification-channels', {
      name: 'metadata-service',
      type: 'webhook',
      url: 'http://169.254.169.254/latest/meta-data',
    });
    expect(internal.status).toBe(400);
    expect(internal.body.errors).toEqual([
      { path: '/url', message: '169.254.169.254 is not a public address', code: 'not_public' },
    ]);

    const bad = await tenant.client.call('POST', `/v1/instances/${instanceId}/alarm-policies`, {
      name: 'bad',
      metric: 'group.lag',
      scope: { topic: 'events' },
      comparison: '>',
      threshold: 1,
      channelIds: ['nch-00000000000000000000'],
      brokerCont: 3,
    });
    expect(bad.status).toBe(400);

    const policy = await tenant.client.call('POST', `/v1/instances/${instanceId}/alarm-policies`, {
      name: 'billing-lag',
      metric: 'group.lag',
      scope: { group: 'billing' },
      comparison: '>',
      threshold: 50,
      durationSeconds: 2,
      severity: 'critical',
      channelIds: [channel.body.id],
    });
    expect(policy.status).toBe(201);

    // The group reads 10 of the 300 messages and stops: 290 behind.
    await kcat(['-G', 'billing', '-X', 'auto.offset.reset=earliest', '-c', '10', '-q', 'events']);
    const firing = await eventually('a firing notification', 90_000, async () =>
      received.find((r) => JSON.parse(r.body).state === 'firing'),
    );
    const body = JSON.parse(firing.body);
    expect(body).toMatchObject({
      type: 'alarm',
      state: 'firing',
      instanceId,
      labels: { group: 'billing' },
      policy: { id: policy.body.id, name: 'billing-lag', metric: 'group.lag', severity: 'critical' },
    });
    expect(body.value).toBeGreaterThan(50);
    const ts = Number(firing.headers['x-fjord-timestamp']);
    expect(
      verifyWebhook(
        channel.body.secret,
        ts,
        firing.body,
        String(firing.headers['x-fjord-signature']),
        Date.now() / 1000,
      ),
    ).toBe(true);
    expect(
      verifyWebhook('wrong', ts, firing.body, String(firing.headers['x-fjord-signature']), Date.now() / 1000),
    ).toBe(false);

    // The group catches up: one resolution.
    await kcat([
      '-G',
      'billing',
      '-X',
      'auto.offset.reset=earliest',
      '-c',
      String(PARTITIONS * PER_PARTITION - 10),
      '-q',
      'events',
    ]);
    await eventually('a resolved notification', 90_000, async () =>
      received.find((r) => JSON.parse(r.body).state === 'resolved'),
    );
    // Alertmanager repeats itself every second here; users hear once per state change.
    await new Promise((r) => setTimeout(r, 5000));
    const states = received.map((r) => JSON.parse(r.body).state);
    expect(states).toEqual(['firing', 'resolved']);

    const events = (await tenant.client.call('GET', `/v1/instances/${instanceId}/alarm-events`)).body.items;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      policyId: policy.body.id,
      status: 'resolved',
      labels: { group: 'billing' },
    });
    expect(events[0].deliveries.map((d: { state: string; status: string }) => [d.state, d.status])).toEqual([
      ['firing', 'delivered'],
      ['resolved', 'delivered'],
    ]);
    const audit = (await tenant.client.call('GET', '/v1/audit-events?limit=100')).body.items.map(
      (e: { action: string }) => e.action,
    );
    expect(audit).toEqual(expect.arrayContaining(['CreateAlarmPolicy', 'CreateNotificationChannel']));
  }, 240_000);

  it('deleting the instance removes its targets and its rules', async () => {
    const rules = await prometheusApi<{ groups: { name: string }[] }>(s.stack, '/api/v1/rules');
    expect(rules.groups.map((g) => g.name)).toContain(`fjord-instance-${instanceId}`);
    const del = await tenant.client.call('DELETE', `/v1/instances/${instanceId}`);
    expect(del.status).toBe(202);
    expect((await waitForOperation(tenant.client, del.body.operation.id)).status).toBe('succeeded');
    await eventually('targets and rules gone', 60_000, async () => {
      const t = await prometheusApi<{ activeTargets: { labels: Record<string, string> }[] }>(
        s.stack,
        '/api/v1/targets',
      );
      const r = await prometheusApi<{ groups: { name: string }[] }>(s.stack, '/api/v1/rules');
      if (t.activeTargets.some((x) => x.labels.instance === instanceId))
        throw new Error('target still scraped');
      if (r.groups.some((g) => g.name === `fjord-instance-${instanceId}`))
        throw new Error('rules still loaded');
      return true;
    });
  }, 120_000);
});
