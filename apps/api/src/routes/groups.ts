import {
  ConsumerGroup,
  ConsumerGroupSummary,
  instanceId,
  Operation,
  PageQuery,
  pageOf,
  ResetOffsets,
} from '@fjord/contracts';
import { inTransactionWithOperation } from '@fjord/provisioning';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { decodeCursor, encodeCursor } from '../http/pagination.js';
import { ApiProblem, notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { createOperation } from '../services/operations.js';
import { operationView } from '../views/operationView.js';
import { problems, type RouteDeps } from './common.js';
import { loadInstance } from './instances.js';

const Params = z.object({ instanceId });
const GroupParams = Params.extend({ groupId: z.string().min(1).max(249) });

/** Consumer groups, their members and lag, read from the cluster; offset resets when empty. */
export type GroupRoutesOptions = Pick<RouteDeps, 'prisma' | 'pool' | 'access' | 'queue' | 'cluster'>;

export const groupRoutes: FastifyPluginAsyncZod<GroupRoutesOptions> = async (app, deps) => {
  const { prisma, access, queue, cluster } = deps;

  app.get(
    '/v1/instances/:instanceId/consumer-groups',
    {
      schema: {
        tags: ['consumer groups'],
        summary: 'List consumer groups',
        params: Params,
        querystring: PageQuery.extend({ prefix: z.string().max(249).optional() }),
        response: { 200: pageOf(ConsumerGroupSummary), ...problems(409, 502) },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      await access.require(p, 'kafka:ListGroups', ins.accountId, `instance/${ins.id}/group/*`);
      const after = decodeCursor(req.query.cursor);
      const all = (await cluster.listGroups(ins.id, ins.brokers)).filter(
        (g) => (!req.query.prefix || g.groupId.startsWith(req.query.prefix)) && (!after || g.groupId > after),
      );
      const items = all.slice(0, req.query.limit);
      return {
        items,
        nextCursor: all.length > items.length ? encodeCursor(items[items.length - 1]!.groupId) : null,
      };
    },
  );

  app.get(
    '/v1/instances/:instanceId/consumer-groups/:groupId',
    {
      schema: {
        tags: ['consumer groups'],
        summary: 'Describe a consumer group: state, members, lag per partition',
        params: GroupParams,
        response: { 200: ConsumerGroup, ...problems(409, 502) },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      await access.require(
        p,
        'kafka:DescribeGroup',
        ins.accountId,
        `instance/${ins.id}/group/${req.params.groupId}`,
      );
      const g = await cluster.describeGroup(ins.id, ins.brokers, req.params.groupId);
      if (!g) throw notFound('consumer group');
      return g;
    },
  );

  app.post(
    '/v1/instances/:instanceId/consumer-groups/:groupId/reset-offsets',
    {
      schema: {
        tags: ['consumer groups'],
        summary:
          'Reset committed offsets of a topic to earliest, latest, a timestamp or an offset (group must be empty)',
        params: GroupParams,
        body: ResetOffsets,
        response: { 202: z.object({ operation: Operation }), ...problems(409, 422, 502) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      const resource = `instance/${ins.id}/group/${req.params.groupId}`;
      await access.require(p, 'kafka:ResetGroupOffsets', ins.accountId, resource);
      const g = await cluster.describeGroup(ins.id, ins.brokers, req.params.groupId);
      if (g && g.members.length > 0)
        throw new ApiProblem(
          'group_not_empty',
          `group ${req.params.groupId} has ${g.members.length} active member(s); stop them first`,
        );
      // A reset of a topic the cluster does not have cannot succeed: refused now, not by the worker.
      const topics = await cluster.listTopics(ins.id, ins.brokers);
      if (!topics.some((t) => t.name === req.body.topic))
        throw new ApiProblem('unprocessable', `the instance has no topic ${req.body.topic}`, {
          errors: [{ path: '/topic', message: 'no such topic', code: 'not_found' }],
        });
      const input = { groupId: req.params.groupId, ...req.body };
      const { operation } = await inTransactionWithOperation(prisma, queue, async (tx) => {
        const operation = await createOperation(tx, p, {
          accountId: ins.accountId,
          instanceId: ins.id,
          kind: 'group.resetOffsets',
          target: resource,
          input,
        });
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'ResetGroupOffsets',
          resource,
          details: { ...input, operationId: operation.id },
        });
        return { operation };
      });
      reply.code(202);
      return { operation: operationView(operation) };
    },
  );
};
