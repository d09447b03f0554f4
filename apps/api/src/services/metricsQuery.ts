import {
  METRIC_QUERY_LIMITS,
  type MetricName,
  type MetricQuery,
  type MetricQueryResult,
  metricInfo,
  scopeIssues,
} from '@fjord/contracts';
import { metricQuery, type PrometheusClient, PrometheusError } from '@fjord/monitoring';
import { ApiProblem, type FieldIssue } from '../problem.js';

export interface QueryRange {
  readonly from: number;
  readonly to: number;
  readonly step: number;
}

/** The range a query asks for (unix seconds), defaults filled in, or the issues naming the fields. */
export function resolveRange(q: MetricQuery, nowSeconds: number): QueryRange | FieldIssue[] {
  const L = METRIC_QUERY_LIMITS;
  const to = q.to ? Math.floor(Date.parse(q.to) / 1000) : nowSeconds;
  const from = q.from ? Math.floor(Date.parse(q.from) / 1000) : to - L.defaultRangeSeconds;
  const issues: FieldIssue[] = [];
  if (from >= to) issues.push({ path: 'query/from', message: 'must be before `to`', code: 'invalid_range' });
  else if (to - from > L.maxRangeSeconds)
    issues.push({
      path: 'query/from',
      message: `the range is at most ${L.maxRangeSeconds} s`,
      code: 'too_big',
    });
  if (to > nowSeconds + 3600)
    issues.push({ path: 'query/to', message: 'must not be more than an hour ahead', code: 'too_big' });
  if (issues.length) return issues;
  const step = q.step ?? Math.max(L.minStepSeconds, Math.ceil((to - from) / 120));
  if ((to - from) / step + 1 > L.maxPoints)
    return [
      {
        path: 'query/step',
        message: `${Math.ceil((to - from) / step) + 1} points; at most ${L.maxPoints} (raise step to ${Math.ceil((to - from) / (L.maxPoints - 1))})`,
        code: 'too_many_points',
      },
    ];
  return { from, to, step };
}

/** Charts for the REST API: validated names and scope in, Prometheus's numbers out. */
export class MetricsReader {
  constructor(
    readonly prometheus: PrometheusClient,
    /** How often Prometheus scrapes; rates look back over several scrapes. */
    readonly scrapeIntervalSeconds: number,
  ) {}

  async query(
    instanceId: string,
    metric: MetricName,
    q: MetricQuery,
    nowSeconds = Math.floor(Date.now() / 1000),
  ): Promise<MetricQueryResult> {
    const scope = {
      ...(q.topic !== undefined ? { topic: q.topic } : {}),
      ...(q.group !== undefined ? { group: q.group } : {}),
      ...(q.partition !== undefined ? { partition: q.partition } : {}),
    };
    const issues: FieldIssue[] = scopeIssues(metric, scope, 'query');
    const range = resolveRange(q, nowSeconds);
    if (Array.isArray(range)) issues.push(...range);
    if (issues.length || Array.isArray(range))
      throw new ApiProblem('validation_failed', 'the query is not one the API can answer', {
        errors: issues,
      });
    const built = metricQuery(
      metric,
      { instanceId, ...scope },
      Math.max(range.step, 4 * this.scrapeIntervalSeconds),
    );
    let result: Awaited<ReturnType<PrometheusClient['queryRange']>>;
    try {
      result = await this.prometheus.queryRange(built.expr, range.from, range.to, range.step);
    } catch (err) {
      if (err instanceof PrometheusError)
        throw new ApiProblem('service_unavailable', 'the metrics store did not answer; retry shortly', {
          headers: { 'retry-after': '5' },
        });
      throw err;
    }
    const info = metricInfo(metric);
    return {
      metric,
      level: info.level,
      unit: info.unit,
      from: new Date(range.from * 1000).toISOString(),
      to: new Date(range.to * 1000).toISOString(),
      step: range.step,
      series: result.map((s) => ({
        labels: Object.fromEntries(
          built.by.filter((l) => s.metric[l] !== undefined).map((l) => [l, s.metric[l]!]),
        ),
        points: s.values.map(([t, v]) => {
          const n = Number(v);
          return [t, Number.isFinite(n) ? n : null] as [number, number | null];
        }),
      })),
    };
  }
}
