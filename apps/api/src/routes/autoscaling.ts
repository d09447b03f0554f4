import {
  AutoscalingPolicy,
  AutoscalingRecommendation,
  instanceId,
  PutAutoscalingPolicy,
} from '@fjord/contracts';
import { AutoscaleObservation, planAutoscaling } from '@fjord/provisioning';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { checkIfMatch, etagOf } from '../http/etag.js';
import { ApiProblem, notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { autoscalingPolicyView, recommendationView } from '../views/autoscalingViews.js';
import { problems, type RouteDeps } from './common.js';
import { loadInstance } from './instances.js';

const Params = z.object({ instanceId });
const IfMatch = z.object({ 'if-match': z.string().max(200).optional() }).loose();

export type AutoscalingRoutesOptions = Pick<RouteDeps, 'prisma' | 'pool' | 'access' | 'metrics'>;

/** One autoscaling policy per instance; the worker's autoscaler acts on it (docs/adr/0009-autoscaling.md). */
export const autoscalingRoutes: FastifyPluginAsyncZod<AutoscalingRoutesOptions> = async (app, deps) => {
  const { prisma, access } = deps;
  const observation = new AutoscaleObservation(
    prisma,
    deps.metrics?.prometheus,
    deps.metrics?.scrapeIntervalSeconds ?? 15,
  );
  const policyOf = async (id: string) => {
    const row = await prisma.autoscalingPolicy.findUnique({ where: { instanceId: id } });
    if (!row) throw notFound(`autoscaling policy of instance ${id}`);
    return row;
  };

  app.put(
    '/v1/instances/:instanceId/autoscaling-policy',
    {
      schema: {
        tags: ['autoscaling'],
        summary: 'Set the autoscaling policy (201 when new; If-Match against its ETag when replacing)',
        params: Params,
        headers: IfMatch,
        body: PutAutoscalingPolicy,
        response: { 200: AutoscalingPolicy, 201: AutoscalingPolicy, ...problems(412, 422) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:ModifyAutoscaling');
      const body = req.body;
      // Every zone keeps a broker: fewer brokers than zones is never a size the instance can take.
      if (body.minBrokers < ins.zones.length)
        throw new ApiProblem('unprocessable', 'every zone of the instance needs a broker', {
          errors: [
            {
              path: '/minBrokers',
              message: `at least ${ins.zones.length} for the instance's ${ins.zones.length} zones`,
              code: 'too_small',
            },
          ],
        });
      const existing = await prisma.autoscalingPolicy.findUnique({ where: { instanceId: ins.id } });
      if (existing) checkIfMatch(req.headers['if-match'], existing.version);
      else if (req.headers['if-match'] !== undefined && req.headers['if-match'] !== '*')
        throw new ApiProblem('precondition_failed', 'the instance has no autoscaling policy to match');
      const row = await prisma.$transaction(async (tx) => {
        let saved: Awaited<ReturnType<typeof tx.autoscalingPolicy.findUniqueOrThrow>>;
        if (existing) {
          // A new policy starts afresh: an earlier refusal no longer holds it back.
          const r = await tx.autoscalingPolicy.updateMany({
            where: { instanceId: ins.id, version: existing.version },
            data: { ...body, lastRefusal: null, lastRefusedAt: null, version: { increment: 1 } },
          });
          if (r.count === 0)
            throw new ApiProblem(
              'precondition_failed',
              'the autoscaling policy changed meanwhile; fetch it again',
            );
          saved = await tx.autoscalingPolicy.findUniqueOrThrow({ where: { instanceId: ins.id } });
        } else saved = await tx.autoscalingPolicy.create({ data: { instanceId: ins.id, ...body } });
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'PutAutoscalingPolicy',
          resource: `instance/${ins.id}/autoscaling-policy`,
          details: body,
        });
        return saved;
      });
      reply.code(existing ? 200 : 201).header('etag', etagOf(row.version));
      return autoscalingPolicyView(row);
    },
  );

  app.get(
    '/v1/instances/:instanceId/autoscaling-policy',
    {
      schema: {
        tags: ['autoscaling'],
        summary: 'Get the autoscaling policy (ETag for If-Match)',
        params: Params,
        response: { 200: AutoscalingPolicy, ...problems() },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeAutoscaling');
      const row = await policyOf(ins.id);
      reply.header('etag', etagOf(row.version));
      return autoscalingPolicyView(row);
    },
  );

  app.delete(
    '/v1/instances/:instanceId/autoscaling-policy',
    {
      schema: {
        tags: ['autoscaling'],
        summary: 'Remove the autoscaling policy: the instance keeps its size',
        params: Params,
        headers: IfMatch,
        response: { 204: z.null(), ...problems(412) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:ModifyAutoscaling');
      const row = await policyOf(ins.id);
      checkIfMatch(req.headers['if-match'], row.version);
      await prisma.$transaction(async (tx) => {
        const r = await tx.autoscalingPolicy.deleteMany({
          where: { instanceId: ins.id, version: row.version },
        });
        if (r.count === 0)
          throw new ApiProblem(
            'precondition_failed',
            'the autoscaling policy changed meanwhile; fetch it again',
          );
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'DeleteAutoscalingPolicy',
          resource: `instance/${ins.id}/autoscaling-policy`,
        });
      });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/instances/:instanceId/autoscaling-policy/recommendation',
    {
      schema: {
        tags: ['autoscaling'],
        summary: 'What the autoscaler would do now, and why (read-only)',
        params: Params,
        response: { 200: AutoscalingRecommendation, ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeAutoscaling');
      const policy = await policyOf(ins.id);
      const now = new Date();
      const plan = planAutoscaling(await observation.inputFor(ins, policy, now.getTime() / 1000));
      return recommendationView(ins.id, policy, ins.bandwidthMBps, plan, now);
    },
  );
};
