import {
  AlterConfigOp,
  MetadataImage,
  planAlterClientQuotas,
  planAlterConfigs,
  replay,
} from '@fjord/metadata';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientQuotaManager } from '../../src/quota/ClientQuotaManager.js';
import { resolveClientQuota } from '../../src/quota/ClientQuotaResolver.js';
import { InstanceBandwidthQuota } from '../../src/quota/InstanceBandwidthQuota.js';
import { QuotaManagers } from '../../src/quota/QuotaManagers.js';
import { SampledRate, throttleTimeMs } from '../../src/quota/SampledRate.js';

const window = { samples: 11, windowMs: 1000 };

function quotas(entries: [Record<string, string | null>, string, number][]) {
  const plan = planAlterClientQuotas(
    MetadataImage.EMPTY,
    entries.map(([entity, key, value]) => ({
      entity: Object.entries(entity).map(([entityType, entityName]) => ({ entityType, entityName })),
      ops: [{ key, value }],
    })),
  );
  expect(plan.results.every((r) => r.error === null)).toBe(true);
  return replay(
    MetadataImage.EMPTY,
    plan.records.map((record, offset) => ({ offset, record })),
  ).clientQuotas;
}

describe('SampledRate (Kafka Rate over SampledStat)', () => {
  it('divides by at least samples-1 windows, so a first burst is not an enormous rate', () => {
    const r = new SampledRate(window);
    r.record(10_000, 0);
    expect(r.windowSize(0)).toBe(10_000);
    expect(r.measure(0)).toBe(1000);
    r.record(10_000, 500);
    expect(r.measure(500)).toBeCloseTo(20_000 / 10.5, 5);
  });

  it('forgets samples older than the whole span', () => {
    const r = new SampledRate(window);
    r.record(5000, 0);
    expect(r.measure(10_999)).toBeGreaterThan(0);
    expect(r.measure(11_000)).toBe(0);
  });

  it('a sender that honours its throttle times averages the bound (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 10_000, max: 1_000_000 }),
        fc.integer({ min: 1_000, max: 200_000 }),
        (bound, requestBytes) => {
          const r = new SampledRate(window);
          let now = 0;
          let sent = 0;
          const end = 60_000;
          while (now < end) {
            r.record(requestBytes, now);
            sent += requestBytes;
            // The client waits out the throttle time, plus a millisecond of its own.
            now += throttleTimeMs(r, bound, now) + 1;
          }
          const rate = sent / (now / 1000);
          // Bursts of up to (samples-1) windows are allowed at the start: over a minute that is the slack.
          expect(rate).toBeLessThan(bound * 1.2 + requestBytes);
          expect(rate).toBeGreaterThan(bound * 0.9);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('client quota resolution (Kafka’s default quota callback)', () => {
  const image = quotas([
    [{ user: 'alice', 'client-id': 'app' }, 'producer_byte_rate', 1],
    [{ user: 'alice', 'client-id': null }, 'producer_byte_rate', 2],
    [{ user: 'alice' }, 'producer_byte_rate', 3],
    [{ user: null, 'client-id': 'app' }, 'producer_byte_rate', 4],
    [{ user: null }, 'producer_byte_rate', 6],
    [{ 'client-id': 'tool' }, 'producer_byte_rate', 7],
    [{ 'client-id': null }, 'producer_byte_rate', 8],
    [{ user: 'bob' }, 'consumer_byte_rate', 9],
  ]);
  it('takes the most specific entity and shares the sensor accordingly', () => {
    expect(resolveClientQuota(image, 'producer_byte_rate', 'alice', 'app')).toEqual({
      sensorUser: 'alice',
      sensorClientId: 'app',
      bound: 1,
    });
    expect(resolveClientQuota(image, 'producer_byte_rate', 'alice', 'other')?.bound).toBe(2);
    expect(resolveClientQuota(image, 'producer_byte_rate', 'carol', 'app')?.bound).toBe(4);
    expect(resolveClientQuota(image, 'producer_byte_rate', 'carol', 'x')).toEqual({
      sensorUser: 'carol',
      sensorClientId: '',
      bound: 6,
    });
    expect(resolveClientQuota(image, 'consumer_byte_rate', 'bob', 'x')).toEqual({
      sensorUser: 'bob',
      sensorClientId: '',
      bound: 9,
    });
    const clientsOnly = quotas([
      [{ 'client-id': 'tool' }, 'producer_byte_rate', 7],
      [{ 'client-id': null }, 'producer_byte_rate', 8],
    ]);
    expect(resolveClientQuota(clientsOnly, 'producer_byte_rate', 'x', 'tool')).toEqual({
      sensorUser: '',
      sensorClientId: 'tool',
      bound: 7,
    });
    expect(resolveClientQuota(clientsOnly, 'producer_byte_rate', 'x', 'y')?.bound).toBe(8);
    expect(
      resolveClientQuota(MetadataImage.EMPTY.clientQuotas, 'producer_byte_rate', 'x', 'y'),
    ).toBeUndefined();
  });

  it('throttles only the client over its quota; a user quota is shared by its clients', () => {
    const q = quotas([[{ user: 'alice' }, 'producer_byte_rate', 1000]]);
    const m = new ClientQuotaManager('producer_byte_rate', window);
    expect(m.record(q, 'alice', 'a', 5000, 0)).toBe(0);
    // The second client of alice pushes the shared sensor over 1000 B/s.
    expect(m.record(q, 'alice', 'b', 10_000, 100)).toBeGreaterThan(0);
    expect(m.record(q, 'bob', 'a', 1_000_000, 100)).toBe(0);
  });
});

describe('QuotaManagers', () => {
  const image = (entries: [Record<string, string | null>, string, number][]) => {
    const plan = planAlterClientQuotas(
      MetadataImage.EMPTY,
      entries.map(([entity, key, value]) => ({
        entity: Object.entries(entity).map(([entityType, entityName]) => ({ entityType, entityName })),
        ops: [{ key, value }],
      })),
    );
    return replay(
      MetadataImage.EMPTY,
      plan.records.map((record, offset) => ({ offset, record })),
    );
  };

  it('a throttled fetch does not count its bytes, and fetch sizes are bounded by the quota window', () => {
    const q = new QuotaManagers(window, null, 1);
    const img = image([[{ user: 'alice' }, 'consumer_byte_rate', 1000]]);
    const alice = { principal: 'User:alice', clientId: 'c' };
    expect(q.maxFetchBytes(img, alice)).toBe(1000 * 10);
    expect(q.maxFetchBytes(img, { principal: 'User:bob', clientId: 'c' })).toBe(Number.POSITIVE_INFINITY);
    expect(q.recordFetch(img, alice, 5000, 0)).toBe(0);
    const throttle = q.recordFetch(img, alice, 20_000, 100);
    expect(throttle).toBeGreaterThan(0);
    // The refused 20 000 bytes were taken back: the rate is what was actually sent.
    expect(q.fetch.rate(img.clientQuotas, 'alice', 'c', 100)).toBeCloseTo(5000 / 10.1, 5); // over the 10 s minimum window, 100 ms in
  });

  it('request_percentage counts handler time as a share of one thread, throttled at most one window', () => {
    const q = new QuotaManagers(window, null, 1);
    const img = image([[{ 'client-id': 'busy' }, 'request_percentage', 10]]);
    const busy = { principal: 'User:x', clientId: 'busy' };
    // 10 % of one thread over the 10 s minimum window is 1 s of handler time.
    expect(q.recordRequestTime(img, busy, 900, 0)).toBe(0);
    const t = q.recordRequestTime(img, busy, 5000, 10);
    expect(t).toBeGreaterThan(0);
    expect(t).toBeLessThanOrEqual(window.windowMs);
  });

  it('the instance bandwidth is shared by the live brokers', () => {
    const one = new InstanceBandwidthQuota(1000, window);
    const three = new InstanceBandwidthQuota(1000, window);
    expect(one.record('in', 9000, 1, 0)).toBe(0);
    expect(three.record('in', 9000, 3, 0)).toBeGreaterThan(0);
    expect(one.maxBytesInWindow(2)).toBe(500 * 10);
  });

  it('the instance bandwidth follows a dynamic broker config over the static one, 0 lifting it', () => {
    const alter = (img: MetadataImage, name: string, value: string) => {
      const plan = planAlterConfigs(
        img,
        'broker',
        name,
        [{ name: 'fjord.instance.bandwidth.bytes.per.second', op: AlterConfigOp.SET, value }],
        true,
      );
      if (!plan.ok) throw new Error(plan.message);
      return replay(
        img,
        plan.records.map((record, offset) => ({ offset: img.offset + 1 + offset, record })),
      );
    };
    const q = new QuotaManagers(window, 1000, 1);
    const c = { principal: 'User:x', clientId: 'c' };
    expect(q.maxFetchBytes(MetadataImage.EMPTY, c)).toBe(1000 * 10);
    const clusterWide = alter(MetadataImage.EMPTY, '', '5000');
    expect(q.maxFetchBytes(clusterWide, c)).toBe(5000 * 10);
    expect(q.maxFetchBytes(alter(clusterWide, '', '0'), c)).toBe(Number.POSITIVE_INFINITY);
    // A value that is not a non-negative number is refused, naming the key.
    const bad = planAlterConfigs(
      clusterWide,
      'broker',
      '',
      [{ name: 'fjord.instance.bandwidth.bytes.per.second', op: AlterConfigOp.SET, value: '-1' }],
      true,
    );
    expect(bad).toMatchObject({ ok: false, error: 'INVALID_CONFIG' });
  });
});
