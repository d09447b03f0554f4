import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AutoscaleInput,
  type AutoscalePolicy,
  planAutoscaling,
  type Sample,
} from '../src/autoscalePlanner.js';

const NOW = 1_800_000_000;
const GIB = 2 ** 30;

const policy: AutoscalePolicy = {
  enabled: true,
  minBrokers: 3,
  maxBrokers: 6,
  minBandwidthMBps: 10,
  maxBandwidthMBps: 100,
  targetBandwidthPercent: 70,
  targetDiskPercent: 75,
  holdSeconds: 60,
  cooldownSeconds: 300,
};

/** A steady signal over the last `seconds`, one sample every 5 s. */
const steady = (value: number, seconds = 60): Sample[] =>
  Array.from({ length: seconds / 5 + 1 }, (_, i) => ({ at: NOW - seconds + 5 * i, value }));

const input = (
  over: Partial<AutoscaleInput> = {},
  bandwidth = steady(10),
  disk = steady(10 * GIB),
): AutoscaleInput => ({
  nowSeconds: NOW,
  policy,
  instance: { status: 'RUNNING', brokerCount: 3, bandwidthMBps: 20, diskGiB: 100 },
  signals: { bandwidthMBps: bandwidth, diskUsedBytes: disk, stepSeconds: 5 },
  ...over,
});

describe('planAutoscaling', () => {
  it('raises bandwidth when produce/fetch stays above the target for the hold time', () => {
    // 18 of 20 MB/s = 90% > 70%: size for 18 MB/s at 56% (80% of the target) → 40 MB/s.
    const plan = planAutoscaling(input({}, steady(18)));
    expect(plan).toMatchObject({ action: 'scale_out', bandwidthMBps: 40, brokerCount: 3 });
    expect(plan.reason).toMatch(/bandwidth 20 → 40 MB\/s: bandwidth above 70%/);
    expect(plan.observed.bandwidth.percent).toBeCloseTo(90);
  });

  it('does nothing on a breach shorter than the hold time', () => {
    const plan = planAutoscaling(input({}, [...steady(5, 60).slice(0, 6), ...steady(18, 30)]));
    expect(plan.action).toBe('none');
    const short = planAutoscaling(input({}, steady(18, 30)));
    expect(short).toMatchObject({ action: 'none' });
    expect(short.reason).toMatch(/reach back 30s of the 60s hold time/);
  });

  it('lowers bandwidth only well below the target, and adds brokers for disk', () => {
    expect(planAutoscaling(input({}, steady(6)))).toMatchObject({ action: 'none' }); // 30%: in the band
    expect(planAutoscaling(input({}, steady(1)))).toMatchObject({ action: 'scale_in', bandwidthMBps: 10 });
    // 250 GiB of 300 GiB = 83% > 75%: brokers for 250 GiB at 60% of 100 GiB each → 5.
    expect(planAutoscaling(input({}, steady(10), steady(250 * GIB)))).toMatchObject({
      action: 'scale_out',
      brokerCount: 5,
      bandwidthMBps: 20,
    });
  });

  it('says why it waits: disabled, busy, cooldown, refusal, no samples, Prometheus down', () => {
    const hot = steady(19);
    expect(planAutoscaling(input({ policy: { ...policy, enabled: false } }, hot)).reason).toBe(
      'autoscaling is disabled',
    );
    expect(planAutoscaling(input({ busy: { id: 'op-1', kind: 'topic.create' } }, hot)).reason).toMatch(
      /another operation is running on the instance \(op-1, topic.create\)/,
    );
    expect(planAutoscaling(input({ lastResizeEndedAt: NOW - 100 }, hot)).reason).toBe(
      `cooldown after the last resize until ${new Date((NOW + 200) * 1000).toISOString()}`,
    );
    expect(
      planAutoscaling(input({ lastRefusal: { at: NOW - 10, reason: 'zones are full' } }, hot)).reason,
    ).toMatch(/^the last resize was refused \(zones are full\); not retried before /);
    expect(
      planAutoscaling(input({ lastRefusal: { at: NOW - 400, reason: 'zones are full' } }, hot)).action,
    ).toBe('scale_out');
    expect(planAutoscaling(input({}, [], [])).reason).toBe('no bandwidth samples yet; no disk samples yet');
    expect(planAutoscaling(input({ signals: { unavailable: 'connection refused' } })).reason).toBe(
      'utilisation cannot be read: connection refused',
    );
  });

  it('brings an instance back into the policy’s range', () => {
    const plan = planAutoscaling(
      input({ instance: { status: 'RUNNING', brokerCount: 2, bandwidthMBps: 200, diskGiB: 100 } }),
    );
    // Below minBrokers: out to 3; the bandwidth above the maximum waits (an out-move wins).
    expect(plan).toMatchObject({ action: 'scale_out', brokerCount: 3, bandwidthMBps: 200 });
    expect(plan.reason).toBe('brokers 2 → 3: the policy allows 3 to 6');
  });
});

const arbitraryPolicy = fc
  .record({
    minBrokers: fc.integer({ min: 1, max: 12 }),
    brokerSpan: fc.integer({ min: 0, max: 11 }),
    minBandwidthMBps: fc.integer({ min: 10, max: 500 }),
    bandwidthSpan: fc.integer({ min: 0, max: 1000 }),
    targetBandwidthPercent: fc.integer({ min: 10, max: 95 }),
    targetDiskPercent: fc.integer({ min: 10, max: 95 }),
  })
  .map(
    (r): AutoscalePolicy => ({
      enabled: true,
      minBrokers: r.minBrokers,
      maxBrokers: Math.min(12, r.minBrokers + r.brokerSpan),
      minBandwidthMBps: r.minBandwidthMBps,
      maxBandwidthMBps: r.minBandwidthMBps + r.bandwidthSpan,
      targetBandwidthPercent: r.targetBandwidthPercent,
      targetDiskPercent: r.targetDiskPercent,
      holdSeconds: 60,
      cooldownSeconds: 300,
    }),
  );

const arbitraryInput = fc
  .record({
    policy: arbitraryPolicy,
    brokerCount: fc.integer({ min: 1, max: 12 }),
    bandwidthMBps: fc.integer({ min: 10, max: 2000 }),
    diskGiB: fc.integer({ min: 1, max: 1000 }),
    bandwidth: fc.array(fc.double({ min: 0, max: 3000, noNaN: true }), { minLength: 13, maxLength: 13 }),
    diskGiBUsed: fc.array(fc.double({ min: 0, max: 20_000, noNaN: true }), { minLength: 13, maxLength: 13 }),
  })
  .map(
    (r): AutoscaleInput => ({
      nowSeconds: NOW,
      policy: r.policy,
      instance: {
        status: 'RUNNING',
        brokerCount: r.brokerCount,
        bandwidthMBps: r.bandwidthMBps,
        diskGiB: r.diskGiB,
      },
      signals: {
        bandwidthMBps: r.bandwidth.map((value, i) => ({ at: NOW - 60 + 5 * i, value })),
        diskUsedBytes: r.diskGiBUsed.map((v, i) => ({ at: NOW - 60 + 5 * i, value: v * GIB })),
        stepSeconds: 5,
      },
    }),
  );

/** Steady signals make breaches likely; random ones exercise the "every sample" rule. */
const steadyInput = arbitraryInput.map((i) => {
  const s = i.signals as { bandwidthMBps: Sample[]; diskUsedBytes: Sample[]; stepSeconds: number };
  return {
    ...i,
    signals: {
      ...s,
      bandwidthMBps: s.bandwidthMBps.map((x) => ({ ...x, value: s.bandwidthMBps[0]!.value })),
      diskUsedBytes: s.diskUsedBytes.map((x) => ({ ...x, value: s.diskUsedBytes[0]!.value })),
    },
  };
});
const anyInput = fc.oneof(arbitraryInput, steadyInput);

describe('planAutoscaling properties', () => {
  it('never moves a dimension outside the policy’s bounds', () => {
    fc.assert(
      fc.property(anyInput, (i) => {
        const plan = planAutoscaling(i);
        if (plan.brokerCount !== i.instance.brokerCount) {
          expect(plan.brokerCount).toBeGreaterThanOrEqual(i.policy.minBrokers);
          expect(plan.brokerCount).toBeLessThanOrEqual(i.policy.maxBrokers);
        }
        if (plan.bandwidthMBps !== i.instance.bandwidthMBps) {
          expect(plan.bandwidthMBps).toBeGreaterThanOrEqual(i.policy.minBandwidthMBps);
          expect(plan.bandwidthMBps).toBeLessThanOrEqual(i.policy.maxBandwidthMBps);
        }
        // An action moves every changed dimension the one way it names.
        if (plan.action === 'scale_out') {
          expect(plan.brokerCount).toBeGreaterThanOrEqual(i.instance.brokerCount);
          expect(plan.bandwidthMBps).toBeGreaterThanOrEqual(i.instance.bandwidthMBps);
        }
        if (plan.action === 'scale_in') {
          expect(plan.brokerCount).toBeLessThanOrEqual(i.instance.brokerCount);
          expect(plan.bandwidthMBps).toBeLessThanOrEqual(i.instance.bandwidthMBps);
        }
        expect(plan.action === 'none').toBe(
          plan.brokerCount === i.instance.brokerCount && plan.bandwidthMBps === i.instance.bandwidthMBps,
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('does not flap: on the same load, a dimension it moved is not moved back', () => {
    fc.assert(
      fc.property(anyInput, (i) => {
        const first = planAutoscaling(i);
        if (first.action === 'none') return;
        const after = planAutoscaling({
          ...i,
          instance: { ...i.instance, brokerCount: first.brokerCount, bandwidthMBps: first.bandwidthMBps },
        });
        // A dimension the first decision moved does not move back (another one may follow later).
        const sign = (a: number, b: number) => Math.sign(b - a);
        const moved = [
          [sign(i.instance.brokerCount, first.brokerCount), sign(first.brokerCount, after.brokerCount)],
          [
            sign(i.instance.bandwidthMBps, first.bandwidthMBps),
            sign(first.bandwidthMBps, after.bandwidthMBps),
          ],
        ] as const;
        for (const [was, next] of moved) if (was !== 0) expect(next).not.toBe(-was);
      }),
      { numRuns: 2000 },
    );
  });

  it('never acts while another operation runs, during the cooldown, or when disabled', () => {
    fc.assert(
      fc.property(anyInput, fc.integer({ min: 0, max: 299 }), (i, ago) => {
        expect(planAutoscaling({ ...i, busy: { id: 'op', kind: 'instance.restart' } }).action).toBe('none');
        expect(planAutoscaling({ ...i, lastResizeEndedAt: NOW - ago }).action).toBe('none');
        expect(planAutoscaling({ ...i, lastRefusal: { at: NOW - ago, reason: 'x' } }).action).toBe('none');
        expect(planAutoscaling({ ...i, policy: { ...i.policy, enabled: false } }).action).toBe('none');
        expect(planAutoscaling({ ...i, instance: { ...i.instance, status: 'RESIZING' } }).action).toBe(
          'none',
        );
      }),
      { numRuns: 500 },
    );
  });
});
