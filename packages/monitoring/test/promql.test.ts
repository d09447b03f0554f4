import { METRICS, type MetricName } from '@fjord/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { alertRuleOf, renderRuleFile } from '../src/alertRules.js';
import { metricQuery, promString } from '../src/promql.js';

/** Reads a PromQL string literal back (the inverse of promString), failing on anything else. */
function readPromString(s: string): string {
  expect(s.startsWith('"') && s.endsWith('"')).toBe(true);
  const body = s.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '"') throw new Error(`unescaped quote at ${i} in ${s}`);
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = body[++i];
    out += n === 'n' ? '\n' : n === 'r' ? '\r' : n === 't' ? '\t' : n!;
  }
  return out;
}

/** The label matchers of every selector in an expression, e.g. [{instance: 'ins-1', group: 'g'}]. */
function matchersIn(expr: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  const re = /\{((?:[a-z_]+(?:=|!=)"(?:[^"\\]|\\.)*",?)*)\}/g;
  for (const m of expr.matchAll(re)) {
    const sel: Record<string, string> = {};
    for (const mm of m[1]!.matchAll(/([a-z_]+)(=|!=)("(?:[^"\\]|\\.)*")/g))
      sel[`${mm[1]}${mm[2] === '!=' ? '!' : ''}`] = readPromString(mm[3]!);
    out.push(sel);
  }
  return out;
}

describe('PromQL built from the catalogue', () => {
  it('escapes label values so any string round-trips as one literal', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), (s) => {
        expect(readPromString(promString(s))).toBe(s);
      }),
    );
    expect(promString('a"}or{x="')).toBe('"a\\"}or{x=\\""');
  });

  it('pins the instance in every selector of every metric, whatever the group name', () => {
    const names = METRICS.map((m) => m.name) as MetricName[];
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.string({ maxLength: 40 }), (metric, group) => {
        const takesGroup = metric.startsWith('group.') || metric.startsWith('partition.consumer_');
        const scope = takesGroup ? { group } : {};
        const { expr } = metricQuery(metric, { instanceId: 'ins-1', ...scope }, 60);
        const selectors = matchersIn(expr);
        expect(selectors.length).toBeGreaterThan(0);
        for (const sel of selectors) {
          expect(sel.instance).toBe('ins-1');
          if (scope.group !== undefined) expect(sel.group).toBe(group);
        }
        // Nothing outside the selectors changed: the braces balance once literals are removed.
        const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
        expect(bare.split('{').length).toBe(bare.split('}').length);
        expect(bare).not.toMatch(/\bor\b/);
      }),
    );
  });

  it('selects the broker-wide series for instance rates and the per-topic ones for topics', () => {
    expect(metricQuery('instance.bytes_in', { instanceId: 'ins-1' }, 30).expr).toBe(
      'sum(rate(kafka_server_brokertopicmetrics_bytesin_total{instance="ins-1",topic=""}[30s]))',
    );
    expect(metricQuery('topic.bytes_in', { instanceId: 'ins-1', topic: 'orders' }, 30)).toEqual({
      expr: 'sum by (topic) (rate(kafka_server_brokertopicmetrics_bytesin_total{instance="ins-1",topic="orders"}[30s]))',
      by: ['topic'],
    });
    expect(
      metricQuery('partition.log_end_offset', { instanceId: 'ins-1', topic: 't', partition: 2 }, 30).expr,
    ).toBe(
      'max by (topic, partition) (kafka_log_log_logendoffset{instance="ins-1",topic="t",partition="2"})',
    );
  });
});

describe('alert rules', () => {
  const policy = {
    id: 'alm-0000000001abcdefghij',
    accountId: 'acc-1',
    instanceId: 'ins-1',
    name: 'lag',
    metric: 'group.lag' as const,
    scope: { group: 'billing"}or{x="' },
    comparison: '>' as const,
    threshold: 100,
    durationSeconds: 30,
    severity: 'critical',
  };

  it('renders one rule per policy with the labels the receiver needs', () => {
    const rule = alertRuleOf(policy, 60);
    expect(rule.expr).toBe(
      'sum by (group) (kafka_consumergroup_lag{instance="ins-1",group="billing\\"}or{x=\\""}) > 100',
    );
    expect(rule.for).toBe('30s');
    expect(rule.labels).toMatchObject({
      fjord_alarm_policy: policy.id,
      fjord_instance: 'ins-1',
      severity: 'critical',
    });
  });

  it('renders the same bytes for the same policies in any order, grouped by instance', () => {
    const other = {
      ...policy,
      id: 'alm-0000000002abcdefghij',
      instanceId: 'ins-2',
      metric: 'instance.bytes_in' as const,
      scope: {},
    };
    const a = renderRuleFile([policy, other], 60);
    expect(renderRuleFile([other, policy], 60)).toBe(a);
    const parsed = parse(a) as { groups: { name: string; rules: { expr: string }[] }[] };
    expect(parsed.groups.map((g) => g.name)).toEqual(['fjord-instance-ins-1', 'fjord-instance-ins-2']);
    // YAML keeps the expression byte for byte (quotes and all).
    expect(parsed.groups[0]!.rules[0]!.expr).toBe(alertRuleOf(policy, 60).expr);
    expect(parse(renderRuleFile([], 60))).toEqual({ groups: [] });
  });
});
