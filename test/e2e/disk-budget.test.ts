/**
 * The disk per broker on the managed service: every instance has the built-in disk alarm, and a
 * broker that fills its disk budget (set small here through the control listener, as ops tooling
 * would) trims its oldest data and raises the alarm its owner sees, through the real Prometheus
 * and Alertmanager.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BrokerConfigAdmin, instanceAdminCredential } from '@fjord/fleet';
import type { RestClient } from '@fjord/test-support/api';
import { TEST_ADMIN_SECRET } from '@fjord/test-support/api';
import {
  eventually,
  type MonitoredService,
  prometheusApi,
  startMonitoredService,
} from '@fjord/test-support/monitoring';
import { waitForOperation } from '@fjord/test-support/service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BUDGET = 2_000_000;

let s: MonitoredService;
let client: RestClient;
let instanceId: string;
let bootstrap: string;

beforeAll(async () => {
  s = await startMonitoredService(1);
  client = (await s.t.tenant('filler')).client;
  const created = await client.call('POST', '/v1/instances', {
    name: 'filled',
    zones: ['az-1'],
    brokerCount: 1,
  });
  expect(created.status).toBe(202);
  instanceId = created.body.instance.id;
  expect((await waitForOperation(client, created.body.operation.id, 120_000)).status).toBe('succeeded');
  const ins = (await client.call('GET', `/v1/instances/${instanceId}`)).body;
  bootstrap = ins.bootstrapServers.find((b: { route: string }) => b.route === 'internal').servers;
}, 180_000);

afterAll(async () => {
  await s?.close();
});

describe('disk budget on a managed instance', () => {
  it('every instance has the disk high-water alarm built in, which its owner may mute but not delete', async () => {
    const list = await client.call('GET', `/v1/instances/${instanceId}/alarm-policies`);
    expect(list.status).toBe(200);
    const policy = list.body.items.find((p: { name: string }) => p.name === 'disk-high-water');
    expect(policy).toMatchObject({
      system: true,
      metric: 'instance.disk_high_water_hits',
      enabled: true,
      severity: 'critical',
    });
    const url = `/v1/instances/${instanceId}/alarm-policies/${policy.id}`;
    const del = await client.call('DELETE', url);
    expect(del.status).toBe(409);
    expect(del.body.code).toBe('conflict');
    const changed = await client.call('PATCH', url, { threshold: 5, muted: true });
    expect(changed.status).toBe(400);
    expect(changed.body.errors.map((e: { path: string }) => e.path)).toEqual(['/threshold']);
    const muted = await client.call('PATCH', url, { muted: true });
    expect(muted.status).toBe(200);
    expect((await client.call('PATCH', url, { muted: false })).body.muted).toBe(false);
  });

  it('a broker that fills its disk trims its oldest segments, keeps serving, and raises the alarm', async () => {
    const topic = await client.call('POST', `/v1/instances/${instanceId}/topics`, {
      name: 'firehose',
      partitions: 2,
      configs: { 'segment.bytes': '100000' },
    });
    expect((await waitForOperation(client, topic.body.operation.id)).status).toBe('succeeded');
    const [b] = await s.t.prisma.brokerPlacement.findMany({ where: { instanceId } });
    const admin = new BrokerConfigAdmin({
      host: b!.host,
      port: (b!.ports as Record<string, number>).CONTROL!,
      credential: instanceAdminCredential(instanceId, TEST_ADMIN_SECRET),
    });
    await admin.set(b!.brokerId, { 'fjord.instance.disk.bytes': String(BUDGET) });

    // The alarm counts checks past the mark between scrapes: Prometheus must know the broker first.
    await eventually('the broker scraped', 60_000, async () => {
      const t = await prometheusApi<{ activeTargets: { labels: Record<string, string>; health: string }[] }>(
        s.stack,
        '/api/v1/targets?state=active',
      );
      return t.activeTargets.some((x) => x.labels.instance === instanceId && x.health === 'up')
        ? true
        : undefined;
    });
    // About 4 MB through kcat: twice the budget.
    const line = (i: number) => `${i}-${'d'.repeat(1000)}`;
    // What kcat said while producing (deliveries refused at the budget), shown if a check fails.
    let producerReports = '';
    for (let round = 0; round < 4; round++)
      for (let p = 0; p < 2; p++) {
        const producing = run('kcat', ['-b', bootstrap, '-t', 'firehose', '-P', '-p', String(p)], {
          timeout: 60_000,
        });
        producing.child.stdin!.end(
          `${Array.from({ length: 500 }, (_, i) => line(round * 500 + i)).join('\n')}\n`,
        );
        producerReports += (await producing).stderr;
      }

    const events = await eventually('the disk alarm event', 90_000, async () => {
      const r = await client.call('GET', `/v1/instances/${instanceId}/alarm-events`);
      return r.body.items.length > 0 ? r.body.items : undefined;
    });
    const policies = (await client.call('GET', `/v1/instances/${instanceId}/alarm-policies`)).body.items;
    const disk = policies.find((p: { name: string }) => p.name === 'disk-high-water');
    expect(events[0]).toMatchObject({ policyId: disk.id, instanceId, severity: 'critical' });
    expect(events[0].value).toBeGreaterThan(0);

    // The oldest records are gone, the newest still readable, and the broker still takes writes.
    const { stdout } = await run(
      'kcat',
      ['-b', bootstrap, '-t', 'firehose', '-C', '-p', '0', '-o', 'beginning', '-c', '1', '-e', '-q'],
      { timeout: 60_000 },
    );
    expect(stdout.startsWith('0-')).toBe(false);
    const last = await run(
      'kcat',
      ['-b', bootstrap, '-t', 'firehose', '-C', '-p', '1', '-o', '-1', '-c', '1', '-e', '-q'],
      { timeout: 60_000 },
    );
    // The newest records survive (the last round's; one kcat saw refused at the budget may be missing).
    const newest = Number(last.stdout.trim().split('-')[0]);
    expect(
      newest,
      `last record ${last.stdout.slice(0, 12)}…; kcat said: ${producerReports.slice(-2000)}`,
    ).toBeGreaterThanOrEqual(1500);
    const more = run('kcat', ['-b', bootstrap, '-t', 'firehose', '-P', '-p', '1'], { timeout: 60_000 });
    more.child.stdin!.end('after\n');
    await more;
    const after = await run(
      'kcat',
      ['-b', bootstrap, '-t', 'firehose', '-C', '-p', '1', '-o', '-1', '-c', '1', '-e', '-q'],
      { timeout: 60_000 },
    );
    expect(after.stdout.trim()).toBe('after');
    // Users see the usage back under the 90 % mark on the instance's chart.
    await eventually('usage charted below the high-water mark', 60_000, async () => {
      const r = await client.call(
        'GET',
        `/v1/instances/${instanceId}/metrics/instance.disk_budget_used_percent?from=${new Date(Date.now() - 120_000).toISOString()}&step=5`,
      );
      const points = r.body.series.flatMap((x: { points: [number, number | null][] }) => x.points);
      const latest = [...points].reverse().find(([, v]) => v !== null)?.[1];
      return latest !== undefined && latest > 0 && latest < 90 ? latest : undefined;
    });
  }, 150_000);
});
