import { planPlacement } from '@fjord/contracts';
import { conflictingOperation } from '@fjord/provisioning';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globMatches } from '../src/access/patterns.js';
import { evaluate } from '../src/access/policyEvaluation.js';
import { TokenBuckets } from '../src/http/rateLimiter.js';

describe('policy evaluation', () => {
  const allowTopics = {
    effect: 'allow' as const,
    actions: ['kafka:*Topic'],
    resources: ['instance/ins-1/topic/orders-*'],
  };
  const denyDelete = { effect: 'deny' as const, actions: ['kafka:DeleteTopic'], resources: ['*'] };

  it('allows what an allow matches, denies by default, explicit deny wins', () => {
    expect(evaluate([allowTopics], 'kafka:CreateTopic', 'instance/ins-1/topic/orders-eu')).toBe('allow');
    expect(evaluate([allowTopics], 'kafka:CreateTopic', 'instance/ins-1/topic/payments')).toBe(
      'implicit-deny',
    );
    expect(evaluate([allowTopics], 'kafka:DeleteInstance', 'instance/ins-1')).toBe('implicit-deny');
    expect(evaluate([allowTopics, denyDelete], 'kafka:DeleteTopic', 'instance/ins-1/topic/orders-eu')).toBe(
      'explicit-deny',
    );
    expect(evaluate([], 'kafka:DescribeInstance', 'instance/ins-1')).toBe('implicit-deny');
  });

  it('deny wins whatever the order of statements', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(allowTopics, denyDelete), { minLength: 1 }), (statements) => {
        const d = evaluate(statements, 'kafka:DeleteTopic', 'instance/ins-1/topic/orders-1');
        expect(d).toBe(statements.includes(denyDelete) ? 'explicit-deny' : 'allow');
      }),
    );
  });

  it('globs treat regex characters literally', () => {
    expect(globMatches('instance/ins-1/topic/a.b', 'instance/ins-1/topic/aXb')).toBe(false);
    expect(globMatches('instance/*/topic/a?c', 'instance/ins-9/topic/abc')).toBe(true);
    expect(globMatches('kafka:Describe*', 'kafka:DescribeTopic')).toBe(true);
  });
});

describe('token buckets', () => {
  it('allow a burst, then one request per 1/rate seconds, with Retry-After', () => {
    const b = new TokenBuckets({ ratePerSecond: 2, burst: 3 });
    expect([0, 0, 0].map(() => b.take('a', 1000).allowed)).toEqual([true, true, true]);
    const refused = b.take('a', 1000);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 1 });
    expect(b.take('b', 1000).allowed).toBe(true);
    expect(b.take('a', 1500).allowed).toBe(true);
    expect(b.take('a', 1500).allowed).toBe(false);
  });
});

describe('placement', () => {
  const zones = (free: number) => ['az-1', 'az-2', 'az-3'].map((name) => ({ name, free }));

  it('spreads brokers over zones and continues ids on resize', () => {
    const first = planPlacement([], 3, zones(4));
    expect(first).toEqual({
      ok: true,
      add: [
        { brokerId: 1, zone: 'az-1' },
        { brokerId: 2, zone: 'az-2' },
        { brokerId: 3, zone: 'az-3' },
      ],
    });
    const more = planPlacement(first.ok ? first.add : [], 5, zones(4));
    expect(more).toEqual({
      ok: true,
      add: [
        { brokerId: 4, zone: 'az-1' },
        { brokerId: 5, zone: 'az-2' },
      ],
    });
  });

  it('never puts more than a zone has room for, and refuses what does not fit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 }),
        (n, frees) => {
          const room = frees.map((free, i) => ({ name: `az-${i}`, free }));
          const plan = planPlacement([], n, room);
          const total = frees.reduce((a, b) => a + b, 0);
          expect(plan.ok).toBe(n <= total);
          if (plan.ok)
            for (const z of room)
              expect(plan.add.filter((b) => b.zone === z.name).length).toBeLessThanOrEqual(z.free);
          if (plan.ok) {
            const counts = room
              .filter((z) => z.free >= Math.ceil(n / room.length))
              .map((z) => plan.add.filter((b) => b.zone === z.name).length);
            if (counts.length === room.length)
              expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
          }
        },
      ),
    );
  });

  it('refuses removing brokers', () => {
    expect(
      planPlacement(
        [
          { brokerId: 1, zone: 'az-1' },
          { brokerId: 2, zone: 'az-1' },
        ],
        1,
        zones(4),
      ).ok,
    ).toBe(false);
  });
});

describe('operation conflicts', () => {
  const wide = { id: 'op-a', instanceWide: true, target: 'instance/ins-1' };
  const topic = { id: 'op-b', instanceWide: false, target: 'instance/ins-1/topic/orders' };

  it('instance-wide operations run alone; others conflict only on the same target', () => {
    expect(conflictingOperation([wide], 'topic.create', 'instance/ins-1/topic/x')).toBe(wide);
    expect(conflictingOperation([topic], 'instance.resize', 'instance/ins-1')).toBe(topic);
    expect(conflictingOperation([topic], 'topic.update', 'instance/ins-1/topic/orders')).toBe(topic);
    expect(conflictingOperation([topic], 'topic.create', 'instance/ins-1/topic/payments')).toBeUndefined();
    expect(conflictingOperation([], 'instance.delete', 'instance/ins-1')).toBeUndefined();
  });
});
