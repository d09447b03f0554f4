import { planHostDrain, planPlacement } from '@fjord/contracts';
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
  const zones = (free: number) =>
    ['az-1', 'az-2', 'az-3'].map((name) => ({ name, hosts: [{ id: 'default', free }] }));

  it('spreads brokers over zones and continues ids on resize', () => {
    const first = planPlacement([], 3, zones(4));
    expect(first).toEqual({
      ok: true,
      add: [
        { brokerId: 1, zone: 'az-1', host: 'default' },
        { brokerId: 2, zone: 'az-2', host: 'default' },
        { brokerId: 3, zone: 'az-3', host: 'default' },
      ],
    });
    const more = planPlacement(first.ok ? first.add : [], 5, zones(4));
    expect(more).toEqual({
      ok: true,
      add: [
        { brokerId: 4, zone: 'az-1', host: 'default' },
        { brokerId: 5, zone: 'az-2', host: 'default' },
      ],
    });
  });

  it('never puts more than a zone has room for, and refuses what does not fit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 }),
        (n, frees) => {
          const room = frees.map((free, i) => ({ name: `az-${i}`, free, hosts: [{ id: 'h', free }] }));
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

  it('puts each broker on the host of its zone with the most free slots, never on a full one', () => {
    const plan = planPlacement([], 4, [
      {
        name: 'az-1',
        hosts: [
          { id: 'h1', free: 1 },
          { id: 'h2', free: 3 },
          { id: 'h3', free: 0 },
        ],
      },
    ]);
    expect(plan.ok && plan.add.map((b) => b.host)).toEqual(['h2', 'h2', 'h1', 'h2']);
    // The zone's room is its hosts' together: a fifth broker does not fit.
    expect(
      planPlacement([], 5, [
        {
          name: 'az-1',
          hosts: [
            { id: 'h1', free: 1 },
            { id: 'h2', free: 3 },
          ],
        },
      ]),
    ).toMatchObject({ ok: false, reason: expect.stringContaining('room for 4 more') });
  });

  it('never overfills a host and spreads over zones first', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.array(fc.integer({ min: -1, max: 4 }), { minLength: 1, maxLength: 3 }), {
          minLength: 1,
          maxLength: 3,
        }),
        (n, frees) => {
          const room = frees.map((hs, i) => ({
            name: `az-${i}`,
            hosts: hs.map((free, j) => ({ id: `h${j}`, free })),
          }));
          const plan = planPlacement([], n, room);
          const total = frees.flat().reduce((a, b) => a + Math.max(0, b), 0);
          expect(plan.ok).toBe(n <= total);
          if (plan.ok)
            for (const z of room)
              for (const h of z.hosts)
                expect(
                  plan.add.filter((b) => b.zone === z.name && b.host === h.id).length,
                ).toBeLessThanOrEqual(Math.max(0, h.free));
        },
      ),
    );
  });

  it('drains a host onto the emptiest other hosts, or refuses naming the shortfall', () => {
    const brokers = [{ brokerId: 1 }, { brokerId: 2 }, { brokerId: 3 }];
    expect(
      planHostDrain(brokers, [
        { id: 'h2', free: 1 },
        { id: 'h3', free: 2 },
      ]),
    ).toEqual({
      ok: true,
      moves: [
        { brokerId: 1, host: 'h3' },
        { brokerId: 2, host: 'h2' },
        { brokerId: 3, host: 'h3' },
      ],
    });
    expect(planHostDrain(brokers, [{ id: 'h2', free: 2 }])).toEqual({
      ok: false,
      reason: "the zone's other active hosts (h2) have 2 free slot(s), 3 needed",
    });
    expect(planHostDrain(brokers, [])).toMatchObject({
      ok: false,
      reason: expect.stringContaining('no other active host'),
    });
    expect(planHostDrain([], [])).toEqual({ ok: true, moves: [] });
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
