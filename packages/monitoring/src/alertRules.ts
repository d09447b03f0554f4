import type { MetricName, MetricScope } from '@fjord/contracts';
import { stringify } from 'yaml';
import { metricQuery } from './promql.js';

/** What a rule needs of an alarm policy. */
export interface RulePolicy {
  readonly id: string;
  readonly accountId: string;
  readonly instanceId: string;
  readonly name: string;
  readonly metric: MetricName;
  readonly scope: MetricScope;
  readonly comparison: '>' | '>=' | '<' | '<=' | '==' | '!=';
  readonly threshold: number;
  readonly durationSeconds: number;
  readonly severity: string;
}

/** Labels an alert carries to Alertmanager and back to the control plane's receiver. */
export const ALERT_LABEL = {
  policy: 'fjord_alarm_policy',
  account: 'fjord_account',
  instance: 'fjord_instance',
  severity: 'severity',
} as const;

/** The alerting rule of one policy. */
export function alertRuleOf(p: RulePolicy, windowSeconds: number) {
  const q = metricQuery(p.metric, { ...p.scope, instanceId: p.instanceId }, windowSeconds);
  return {
    alert: `fjord_${p.id.replace(/-/g, '_')}`,
    expr: `${q.expr} ${p.comparison} ${formatNumber(p.threshold)}`,
    for: `${p.durationSeconds}s`,
    labels: {
      [ALERT_LABEL.policy]: p.id,
      [ALERT_LABEL.account]: p.accountId,
      [ALERT_LABEL.instance]: p.instanceId,
      [ALERT_LABEL.severity]: p.severity,
    },
    annotations: {
      summary: `${p.name}: ${p.metric} ${p.comparison} ${formatNumber(p.threshold)}`,
      value: '{{ $value }}',
    },
  };
}

/**
 * The Prometheus rule file of all enabled policies: one group per instance, so an instance's rules
 * are evaluated together and leave together when it is deleted. Deterministic (sorted), so an
 * unchanged set of policies renders the same bytes and needs no reload.
 */
export function renderRuleFile(policies: readonly RulePolicy[], windowSeconds: number): string {
  const byInstance = new Map<string, RulePolicy[]>();
  for (const p of [...policies].sort((a, b) => a.id.localeCompare(b.id))) {
    const list = byInstance.get(p.instanceId) ?? [];
    list.push(p);
    byInstance.set(p.instanceId, list);
  }
  const groups = [...byInstance.keys()].sort().map((instanceId) => ({
    name: `fjord-instance-${instanceId}`,
    rules: byInstance.get(instanceId)!.map((p) => alertRuleOf(p, windowSeconds)),
  }));
  return `# Written by the Fjord worker from the alarm policies; changes are overwritten.\n${stringify({ groups })}`;
}

/** PromQL number literal: finite numbers as JavaScript prints them (which PromQL parses). */
function formatNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`threshold ${n} is not a finite number`);
  return String(n);
}
