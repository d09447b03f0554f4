import { describe, expect, it } from 'vitest';
import { parseArgs, toRequest, UsageError } from '../src/args.js';

const req = (s: string) => toRequest(parseArgs(s.split(' ')));

describe('fjord CLI commands map to REST calls', () => {
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
