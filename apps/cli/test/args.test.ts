import createClient from 'openapi-fetch';
import { describe, expect, it } from 'vitest';
import { strictClient } from '../src/apiClient.js';
import { parseArgs, UsageError } from '../src/args.js';
import type { paths } from '../src/generated/api.js';
import { oneShotCommand } from '../src/oneShotCommands.js';

interface Sent {
  readonly method: string;
  /** Path and query string as they go on the wire. */
  readonly path: string;
  readonly body?: unknown;
  /** Whether `--wait` polls the operation the answer names. */
  readonly wait: boolean;
}

/**
 * The request a command line sends through the generated client. The client's `fetch` keeps
 * the request it built (URL, method, JSON body) and answers `{}`: what is asserted is the wire
 * form, not an API's behaviour.
 */
async function sent(argv: readonly string[]): Promise<Sent> {
  const requests: Request[] = [];
  const api = createClient<paths>({
    baseUrl: 'http://fjord.invalid',
    fetch: async (request: Request) => {
      requests.push(request);
      return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
    },
  });
  const args = parseArgs(argv);
  const command = oneShotCommand(args);
  await command.call(strictClient(api), args);
  expect(requests).toHaveLength(1);
  const request = requests[0]!;
  const url = new URL(request.url);
  const text = await request.text();
  return {
    method: request.method,
    path: `${url.pathname}${url.search}`,
    ...(text ? { body: JSON.parse(text) as unknown } : {}),
    wait: command.waits === true && args.flags.wait === true,
  };
}

const req = (s: string) => sent(s.split(' '));

describe('fjord CLI commands map to REST calls', () => {
  it('connectors: create from JSON, transitions and offsets', async () => {
    const body = {
      name: 'archive',
      type: 's3-sink',
      config: { topics: ['t'], bucket: 'bkt' },
      secrets: { accessKeyId: 'AKID', secretAccessKey: 'shh' },
    };
    expect(await sent(['connectors', 'create', 'ins-1', '--json', JSON.stringify(body)])).toEqual({
      method: 'POST',
      path: '/v1/instances/ins-1/connectors',
      body,
      wait: false,
    });
    expect(await req('connectors pause ins-1 con-1')).toMatchObject({
      method: 'POST',
      path: '/v1/instances/ins-1/connectors/con-1/pause',
    });
    expect(await req('connectors offsets ins-1 con-1')).toMatchObject({
      method: 'GET',
      path: '/v1/instances/ins-1/connectors/con-1/offsets',
    });
    expect(await req('connectors delete ins-1 con-1')).toMatchObject({ method: 'DELETE' });
    await expect(req('connectors create ins-1 --json {nope')).rejects.toThrow(/JSON object/);
    await expect(req('connectors get ins-1')).rejects.toThrow(/connector id/);
  });

  it('connectors create checks the connector before sending it, naming the field', async () => {
    const bad = { name: 'archive', type: 's3-sink', config: { topics: [], bucket: 'bkt' }, secrets: {} };
    await expect(sent(['connectors', 'create', 'ins-1', '--json', JSON.stringify(bad)])).rejects.toThrow(
      /--json: config\.topics:/,
    );
  });

  it('instances create', async () => {
    expect(await req('instances create --name orders --zones az-1,az-2,az-3 --brokers 3 --wait')).toEqual({
      method: 'POST',
      path: '/v1/instances',
      body: { name: 'orders', zones: ['az-1', 'az-2', 'az-3'], brokerCount: 3 },
      wait: true,
    });
    expect((await req('instances create --name orders --zones az-1 --disk 20')).body).toEqual({
      name: 'orders',
      zones: ['az-1'],
      spec: { diskGiB: 20 },
    });
  });
  it('instances and topics: lists, reads, resize, deletes', async () => {
    expect(await req('instances list')).toMatchObject({ method: 'GET', path: '/v1/instances?limit=100' });
    expect(await req('instances get ins-1')).toMatchObject({ method: 'GET', path: '/v1/instances/ins-1' });
    expect(await req('instances resize ins-1 --brokers 6 --wait')).toEqual({
      method: 'POST',
      path: '/v1/instances/ins-1/resize',
      body: { brokerCount: 6 },
      wait: true,
    });
    expect(await req('instances restart ins-1')).toMatchObject({
      method: 'POST',
      path: '/v1/instances/ins-1/restart',
    });
    expect(await req('topics list ins-1')).toMatchObject({ path: '/v1/instances/ins-1/topics?limit=100' });
    expect(await req('topics delete ins-1 a.b --wait')).toEqual({
      method: 'DELETE',
      path: '/v1/instances/ins-1/topics/a.b',
      wait: true,
    });
    expect(await req('topics alter ins-1 events --partitions 12')).toEqual({
      method: 'PATCH',
      path: '/v1/instances/ins-1/topics/events',
      body: { partitions: 12 },
      wait: false,
    });
    expect(await req('operations get op-1')).toMatchObject({ method: 'GET', path: '/v1/operations/op-1' });
  });
  it('path segments are escaped', async () => {
    expect((await sent(['topics', 'get', 'ins-1', 'a/b c'])).path).toBe(
      '/v1/instances/ins-1/topics/a%2Fb%20c',
    );
  });
  it('topics create with configs', async () => {
    expect(
      await req(
        'topics create ins-1 events --partitions 6 --config retention.ms=1000,cleanup.policy=compact',
      ),
    ).toEqual({
      method: 'POST',
      path: '/v1/instances/ins-1/topics',
      body: {
        name: 'events',
        partitions: 6,
        configs: { 'retention.ms': '1000', 'cleanup.policy': 'compact' },
      },
      wait: false,
    });
  });
  it('refuses what it cannot map', async () => {
    await expect(req('instances get')).rejects.toThrow(UsageError);
    await expect(req('instances create --name x --zones az-1 --brokers three')).rejects.toThrow(
      /whole number/,
    );
    await expect(req('instances resize ins-1')).rejects.toThrow(/--brokers is required/);
    await expect(req('topics create ins-1 t --config retention.ms')).rejects.toThrow(/k=v/);
    await expect(req('nonsense here')).rejects.toThrow(UsageError);
  });
});

describe('metrics and alarms commands', () => {
  it('map to the monitoring routes', async () => {
    expect(await req('metrics list')).toEqual({ method: 'GET', path: '/v1/monitoring/metrics', wait: false });
    expect((await req('metrics query ins-1 group.lag --group a"b --step 60')).path).toBe(
      '/v1/instances/ins-1/metrics/group.lag?group=a%22b&step=60',
    );
    expect(
      await req(
        'alarms create ins-1 --name lag --metric group.lag --group billing --comparison > --threshold 100 --channels nch-1,nch-2',
      ),
    ).toEqual({
      method: 'POST',
      path: '/v1/instances/ins-1/alarm-policies',
      body: {
        name: 'lag',
        metric: 'group.lag',
        scope: { group: 'billing' },
        comparison: '>',
        threshold: 100,
        channelIds: ['nch-1', 'nch-2'],
      },
      wait: false,
    });
    expect(await req('alarms mute ins-1 alm-1')).toMatchObject({ method: 'PATCH', body: { muted: true } });
    expect(await req('alarms disable ins-1 alm-1')).toMatchObject({
      method: 'PATCH',
      path: '/v1/instances/ins-1/alarm-policies/alm-1',
      body: { enabled: false },
    });
    expect((await req('alarms events ins-1 --status firing')).path).toBe(
      '/v1/instances/ins-1/alarm-events?limit=100&status=firing',
    );
    expect((await req('channels create --name ops --url http://h/x')).body).toEqual({
      name: 'ops',
      type: 'webhook',
      url: 'http://h/x',
    });
    expect(await req('channels delete nch-1')).toMatchObject({
      method: 'DELETE',
      path: '/v1/notification-channels/nch-1',
    });
  });

  it('refuses a threshold that is not a number', async () => {
    await expect(
      req('alarms create ins-1 --name x --metric group.lag --comparison > --threshold lots'),
    ).rejects.toThrow(UsageError);
  });
  it('refuses what the API would not accept as a metric, comparison, severity or status', async () => {
    await expect(req('metrics query ins-1 group.lagg')).rejects.toThrow(/'group.lagg' is not a metric/);
    await expect(
      req('alarms create ins-1 --name x --metric group.lag --comparison => --threshold 1'),
    ).rejects.toThrow(/--comparison must be one of >, >=, <, <=, ==, !=/);
    await expect(
      req('alarms create ins-1 --name x --metric group.lag --comparison > --threshold 1 --severity loud'),
    ).rejects.toThrow(/--severity must be one of info, warning, critical/);
    await expect(req('alarms events ins-1 --status open')).rejects.toThrow(/--status must be one of/);
  });
});

describe('autoscaling commands', () => {
  it('set puts the whole policy; get, delete and recommend name the instance', async () => {
    expect(
      await req(
        'autoscaling set ins-1 --min-brokers 3 --max-brokers 6 --min-bandwidth 20 --max-bandwidth 200 --target-bandwidth 60 --cooldown 900',
      ),
    ).toEqual({
      method: 'PUT',
      path: '/v1/instances/ins-1/autoscaling-policy',
      body: {
        enabled: true,
        minBrokers: 3,
        maxBrokers: 6,
        minBandwidthMBps: 20,
        maxBandwidthMBps: 200,
        targetBandwidthPercent: 60,
        cooldownSeconds: 900,
      },
      wait: false,
    });
    expect(
      (
        await req(
          'autoscaling set ins-1 --min-brokers 3 --max-brokers 3 --min-bandwidth 20 --max-bandwidth 20 --disabled',
        )
      ).body,
    ).toMatchObject({ enabled: false });
    expect(await req('autoscaling get ins-1')).toMatchObject({
      method: 'GET',
      path: '/v1/instances/ins-1/autoscaling-policy',
    });
    expect((await req('autoscaling delete ins-1')).method).toBe('DELETE');
    expect((await req('autoscaling recommend ins-1')).path).toBe(
      '/v1/instances/ins-1/autoscaling-policy/recommendation',
    );
  });
  it('refuses a policy without its bounds', async () => {
    await expect(
      req('autoscaling set ins-1 --min-brokers 3 --max-brokers 6 --min-bandwidth 20'),
    ).rejects.toThrow(/--max-bandwidth is required/);
    await expect(req('autoscaling set ins-1 --min-brokers three')).rejects.toThrow(/whole number/);
    await expect(req('autoscaling recommend')).rejects.toThrow(/needs an instance id/);
  });
});
