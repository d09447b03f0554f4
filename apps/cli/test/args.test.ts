import { describe, expect, it } from 'vitest';
import { parseArgs, toRequest, UsageError } from '../src/args.js';

const req = (s: string) => toRequest(parseArgs(s.split(' ')));

describe('fjord CLI commands map to REST calls', () => {
  it('connectors: create from JSON, transitions and offsets', () => {
    const body = { name: 'archive', type: 's3-sink', config: { topics: ['t'], bucket: 'b' } };
    expect(toRequest(parseArgs(['connectors', 'create', 'ins-1', '--json', JSON.stringify(body)]))).toEqual({
      method: 'POST',
      path: '/v1/instances/ins-1/connectors',
      body,
      wait: false,
    });
    expect(req('connectors pause ins-1 con-1')).toMatchObject({
      method: 'POST',
      path: '/v1/instances/ins-1/connectors/con-1/pause',
    });
    expect(req('connectors offsets ins-1 con-1')).toMatchObject({
      method: 'GET',
      path: '/v1/instances/ins-1/connectors/con-1/offsets',
    });
    expect(req('connectors delete ins-1 con-1')).toMatchObject({ method: 'DELETE' });
    expect(() => req('connectors create ins-1 --json {nope')).toThrow(/JSON object/);
    expect(() => req('connectors get ins-1')).toThrow(/connector id/);
  });

  it('instances create', () => {
    expect(req('instances create --name orders --zones az-1,az-2,az-3 --brokers 3 --wait')).toEqual({
      method: 'POST',
      path: '/v1/instances',
      body: { name: 'orders', zones: ['az-1', 'az-2', 'az-3'], brokerCount: 3 },
      wait: true,
    });
  });
  it('topics create with configs', () => {
    expect(
      req('topics create ins-1 events --partitions 6 --config retention.ms=1000,cleanup.policy=compact'),
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
  it('refuses what it cannot map', () => {
    expect(() => req('instances get')).toThrow(UsageError);
    expect(() => req('instances create --name x --zones az-1 --brokers three')).toThrow(/whole number/);
    expect(() => req('nonsense here')).toThrow(UsageError);
  });
});

describe('metrics and alarms commands', () => {
  it('map to the monitoring routes', () => {
    expect(req('metrics list')).toEqual({ method: 'GET', path: '/v1/monitoring/metrics', wait: false });
    expect(req('metrics query ins-1 group.lag --group a"b --step 60').path).toBe(
      '/v1/instances/ins-1/metrics/group.lag?group=a%22b&step=60',
    );
    expect(
      req(
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
    expect(req('alarms mute ins-1 alm-1')).toMatchObject({ method: 'PATCH', body: { muted: true } });
    expect(req('alarms events ins-1 --status firing').path).toBe(
      '/v1/instances/ins-1/alarm-events?limit=100&status=firing',
    );
    expect(req('channels create --name ops --url http://h/x').body).toEqual({
      name: 'ops',
      type: 'webhook',
      url: 'http://h/x',
    });
  });

  it('refuses a threshold that is not a number', () => {
    expect(() =>
      req('alarms create ins-1 --name x --metric group.lag --comparison > --threshold lots'),
    ).toThrow(UsageError);
  });
});

describe('autoscaling commands', () => {
  it('set puts the whole policy; get, delete and recommend name the instance', () => {
    expect(
      req(
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
      req(
        'autoscaling set ins-1 --min-brokers 3 --max-brokers 3 --min-bandwidth 20 --max-bandwidth 20 --disabled',
      ).body,
    ).toMatchObject({ enabled: false });
    expect(req('autoscaling get ins-1')).toMatchObject({
      method: 'GET',
      path: '/v1/instances/ins-1/autoscaling-policy',
    });
    expect(req('autoscaling delete ins-1').method).toBe('DELETE');
    expect(req('autoscaling recommend ins-1').path).toBe(
      '/v1/instances/ins-1/autoscaling-policy/recommendation',
    );
  });
  it('refuses a policy without its bounds', () => {
    expect(() => req('autoscaling set ins-1 --min-brokers 3 --max-brokers 6 --min-bandwidth 20')).toThrow(
      /--max-bandwidth is required/,
    );
    expect(() => req('autoscaling set ins-1 --min-brokers three')).toThrow(/whole number/);
    expect(() => req('autoscaling recommend')).toThrow(/needs an instance id/);
  });
});
