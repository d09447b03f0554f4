import { filtersOf, instanceId, METRICS, MetricCatalogueEntry, MetricName, MetricQuery, MetricQueryResult } from '@fjord/contracts';
import { z } from 'zod';
import { principalOf } from '../app.js';
import { ApiProblem } from '../problem.js';
import { type App, problems, type RouteDeps } from './common.js';
import { loadInstance } from './instances.js';

const catalogue = METRICS.map((m) => ({ ...m, filters: [...filtersOf(m.name)] }));

/** Charts of an instance at four levels, read from the control plane's Prometheus. */
export function monitoringRoutes(app: App, deps: RouteDeps): void {
  const { access, metrics } = deps;

  app.get(
    '/v1/monitoring/metrics',
    {
      schema: {
        tags: ['monitoring'],
        summary: 'The metrics an instance can be charted and alarmed on, with their level, unit and filters',
        response: { 200: z.object({ items: z.array(MetricCatalogueEntry) }), ...problems() },
      },
    },
    async (req) => {
      principalOf(req);
      return { items: catalogue };
    },
  );

  app.get(
    '/v1/instances/:instanceId/metrics/:metric',
    {
      schema: {
        tags: ['monitoring'],
        summary: 'A metric of the instance over time (filters: topic, group, partition, by the metric’s level)',
        params: z.object({ instanceId, metric: MetricName }),
        querystring: MetricQuery,
        response: { 200: MetricQueryResult, ...problems() },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'monitor:GetMetrics');
      if (!metrics) throw new ApiProblem('service_unavailable', 'monitoring is not configured on this deployment');
      return metrics.query(ins.id, req.params.metric, req.query);
    },
  );
}
