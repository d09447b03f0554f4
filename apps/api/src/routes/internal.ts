import { timingSafeEqual } from 'node:crypto';
import { AlertmanagerPayload } from '@fjord/monitoring';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiMetrics } from '../http/requestMetrics.js';
import { ApiProblem } from '../problem.js';
import { receiveAlerts } from '../services/alarmReceiver.js';
import type { RouteDeps } from './common.js';

/** One `http_sd_configs` target group. */
interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/**
 * Routes for the monitoring stack, not for users: Prometheus's target discovery, Alertmanager's
 * receiver and the API's own metrics. Behind a token of their own and left out of the OpenAPI
 * document; absent when no token is configured.
 */
export interface InternalRoutesOptions extends Pick<RouteDeps, 'prisma' | 'pool'> {
  readonly internalToken: string;
  readonly apiMetrics: ApiMetrics;
}

export const internalRoutes: FastifyPluginAsyncZod<InternalRoutesOptions> = async (app, deps) => {
  const expected = Buffer.from(`Bearer ${deps.internalToken}`);
  app.addHook('onRequest', async (req) => {
    const got = Buffer.from(req.headers.authorization ?? '');
    if (got.length !== expected.length || !timingSafeEqual(got, expected))
      throw new ApiProblem('unauthenticated', 'this route wants the internal token');
  });

  app.get(
    '/internal/prometheus/targets',
    {
      schema: {
        hide: true,
        querystring: z.object({ kind: z.enum(['broker', 'agent', 'connect']) }).strict(),
      },
    },
    async (req): Promise<TargetGroup[]> => {
      if (req.query.kind === 'connect') {
        // Workers heartbeat every few seconds; one silent for a minute is gone (or about to be).
        const { rows } = await deps.pool.query<{ id: string; metricsAddress: string }>(
          `SELECT "id", "metricsAddress" FROM "ConnectWorkerHeartbeat"
            WHERE "metricsAddress" IS NOT NULL AND "heartbeatAt" > now() - interval '1 minute'
            ORDER BY "id"`,
        );
        return [
          { targets: [], labels: {} }, // keeps the job known when no worker runs (as for brokers)
          ...rows.map((r) => ({ targets: [r.metricsAddress], labels: { worker: r.id } })),
        ];
      }
      if (req.query.kind === 'agent') {
        const hosts = await deps.prisma.host.findMany({
          where: { agentUrl: { not: '' } },
          orderBy: [{ zone: 'asc' }, { id: 'asc' }],
        });
        return hosts.map((h) => ({
          targets: [new URL(h.agentUrl).host],
          labels: { zone: h.zone, host: h.id },
        }));
      }
      const { rows } = await deps.pool.query<{
        host: string;
        metricsPort: number;
        brokerId: number;
        zone: string;
        instanceId: string;
        accountId: string;
      }>(
        `SELECT b."host", b."metricsPort", b."brokerId", b."zone", i."id" AS "instanceId", i."accountId"
           FROM "BrokerPlacement" b JOIN "Instance" i ON i."id" = b."instanceId"
          WHERE i."deletedAt" IS NULL AND i."status" NOT IN ('DELETING', 'DELETED') AND b."metricsPort" IS NOT NULL
          ORDER BY i."id", b."brokerId"`,
      );
      return [
        // Prometheus 2.42 keeps scraping the last targets of a job whose discovery turns empty
        // across a configuration reload; a group that is always there (with no targets) keeps the
        // job known, so the last broker of a deleted instance is dropped too.
        { targets: [], labels: {} },
        ...rows.map((r) => ({
          targets: [`${r.host}:${r.metricsPort}`],
          // `instance` is the Fjord instance (not host:port): every series of its brokers carries it.
          labels: { account: r.accountId, instance: r.instanceId, broker: String(r.brokerId), zone: r.zone },
        })),
      ];
    },
  );

  app.post(
    '/internal/alertmanager/alerts',
    { schema: { hide: true, body: AlertmanagerPayload } },
    async (req) => receiveAlerts(deps.prisma, req.body),
  );

  app.get('/internal/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.type(deps.apiMetrics.registry.contentType);
    return deps.apiMetrics.registry.metrics();
  });
};
