import {
  filtersOf,
  instanceId,
  METRICS,
  MetricCatalogueEntry,
  MetricName,
  MetricQuery,
  MetricQueryResult,
} from '@fjord/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { ApiProblem } from '../problem.js';
import { problems, type RouteDeps } from './common.js';
import { loadInstance } from './instances.js';

const catalogue = METRICS.map((m) => ({ ...m, filters: [...filtersOf(m.name)] }));

/** Charts of an instance at four levels, read from the control plane's Prometheus. */
export type MonitoringRoutesOptions = Pick<RouteDeps, 'pool' | 'access' | 'metrics'>;

export const monitoringRoutes: FastifyPluginAsyncZod<MonitoringRoutesOptions> = async (app, deps) => {
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
      requirePrincipal(req);
      return { items: catalogue };
    },
  );

  app.get(
    '/v1/instances/:instanceId/metrics/:metric',
    {
      schema: {
        tags: ['monitoring'],
        summary:
          'A metric of the instance over time (filters: topic, group, partition, by the metric’s level)',
        params: z.object({ instanceId, metric: MetricName }),
        querystring: MetricQuery,
        response: { 200: MetricQueryResult, ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'monitor:GetMetrics');
      if (!metrics)
        throw new ApiProblem('service_unavailable', 'monitoring is not configured on this deployment');
      return metrics.query(ins.id, req.params.metric, req.query);
    },
  );
};
