import {
  CreateTopic,
  instanceId,
  Operation,
  PageQuery,
  PatchTopic,
  pageOf,
  Topic,
  TopicName,
} from '@fjord/contracts';
import { inTransactionWithOperation } from '@fjord/provisioning';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { decodeCursor, encodeCursor } from '../http/pagination.js';
import { ApiProblem, notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { createOperation } from '../services/operations.js';
import { listTopics, partitionsInUse } from '../services/topicListing.js';
import type { InstanceWithBrokers } from '../views/instanceView.js';
import { operationView } from '../views/operationView.js';
import { problems, type RouteDeps } from './common.js';
import { loadInstance } from './instances.js';

const Params = z.object({ instanceId });
const TopicParams = Params.extend({ topic: TopicName });
const Accepted = z.object({ topic: Topic, operation: Operation });

export type TopicRoutesOptions = Pick<RouteDeps, 'prisma' | 'pool' | 'access' | 'queue' | 'cluster'>;

export const topicRoutes: FastifyPluginAsyncZod<TopicRoutesOptions> = async (app, deps) => {
  const { prisma, access, queue } = deps;

  const currentTopics = (instance: InstanceWithBrokers) => listTopics(deps, instance);

  app.post(
    '/v1/instances/:instanceId/topics',
    {
      schema: {
        tags: ['topics'],
        summary: 'Create a topic (listed at once with status creating)',
        params: Params,
        body: CreateTopic,
        response: { 202: Accepted, ...problems(409, 422, 502) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      const body = req.body;
      await access.require(p, 'kafka:CreateTopic', ins.accountId, `instance/${ins.id}/topic/${body.name}`);
      const replicationFactor = body.replicationFactor ?? ins.defaultReplicationFactor;
      if (replicationFactor > ins.brokerCount)
        throw new ApiProblem(
          'unprocessable',
          `replicationFactor ${replicationFactor} exceeds the ${ins.brokerCount} brokers`,
          {
            errors: [{ path: '/replicationFactor', message: `at most ${ins.brokerCount}`, code: 'too_big' }],
          },
        );
      const topics = await currentTopics(ins);
      if (topics.some((t) => t.name === body.name))
        throw new ApiProblem('name_taken', `topic ${body.name} exists`);
      const used = partitionsInUse(topics);
      if (used + body.partitions > ins.partitionLimit)
        throw new ApiProblem(
          'quota_exceeded',
          `the instance holds ${used} of ${ins.partitionLimit} partitions; ${body.partitions} more do not fit`,
        );
      const input = {
        name: body.name,
        partitions: body.partitions,
        replicationFactor,
        configs: body.configs,
      };
      const { operation } = await inTransactionWithOperation(prisma, queue, async (tx) => {
        const operation = await createOperation(tx, p, {
          accountId: ins.accountId,
          instanceId: ins.id,
          kind: 'topic.create',
          target: `instance/${ins.id}/topic/${body.name}`,
          input,
        });
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'CreateTopic',
          resource: operation.target,
          details: { ...input, operationId: operation.id },
        });
        return { operation };
      });
      reply.code(202).header('location', `/v1/instances/${ins.id}/topics/${body.name}`);
      return {
        topic: { ...input, status: 'creating' as const, operationId: operation.id },
        operation: operationView(operation),
      };
    },
  );

  app.get(
    '/v1/instances/:instanceId/topics',
    {
      schema: {
        tags: ['topics'],
        summary: "List topics (read from the instance's cluster)",
        params: Params,
        querystring: PageQuery.extend({ prefix: z.string().max(249).optional() }),
        response: { 200: pageOf(Topic), ...problems(409, 502) },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      await access.require(p, 'kafka:ListTopics', ins.accountId, `instance/${ins.id}/topic/*`);
      const after = decodeCursor(req.query.cursor);
      const all = (await currentTopics(ins)).filter(
        (t) => (!req.query.prefix || t.name.startsWith(req.query.prefix)) && (!after || t.name > after),
      );
      const items = all.slice(0, req.query.limit);
      return {
        items,
        nextCursor: all.length > items.length ? encodeCursor(items[items.length - 1]!.name) : null,
      };
    },
  );

  app.get(
    '/v1/instances/:instanceId/topics/:topic',
    {
      schema: {
        tags: ['topics'],
        summary: 'Get a topic',
        params: TopicParams,
        response: { 200: Topic, ...problems(409, 502) },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      await access.require(
        p,
        'kafka:DescribeTopic',
        ins.accountId,
        `instance/${ins.id}/topic/${req.params.topic}`,
      );
      const topic = (await currentTopics(ins)).find((t) => t.name === req.params.topic);
      if (!topic) throw notFound('topic');
      return topic;
    },
  );

  app.patch(
    '/v1/instances/:instanceId/topics/:topic',
    {
      schema: {
        tags: ['topics'],
        summary: 'Add partitions and/or change topic configs (in place)',
        params: TopicParams,
        body: PatchTopic,
        response: { 200: Topic, 202: Accepted, ...problems(409, 422, 502) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      const resource = `instance/${ins.id}/topic/${req.params.topic}`;
      await access.require(p, 'kafka:ModifyTopic', ins.accountId, resource);
      const topics = await currentTopics(ins);
      const topic = topics.find((t) => t.name === req.params.topic);
      if (!topic) throw notFound('topic');
      const { partitions } = req.body;
      // Only what differs from the topic is changed: a value it has, or the removal of an override it
      // does not have, is no change (200 with the topic, no operation, no audit event).
      const configs = Object.fromEntries(
        Object.entries(req.body.configs ?? {}).filter(
          (e): e is [string, string] => e[1] !== null && topic.configs[e[0]] !== e[1],
        ),
      );
      const removeConfigs = Object.entries(req.body.configs ?? {})
        .filter(([k, v]) => v === null && k in topic.configs)
        .map(([k]) => k)
        .sort();
      const changesPartitions = partitions !== undefined && partitions !== topic.partitions;
      const changesConfigs = Object.keys(configs).length > 0 || removeConfigs.length > 0;
      if (!changesPartitions && !changesConfigs) return reply.code(200).send(topic);
      if (partitions !== undefined && partitions < topic.partitions)
        throw new ApiProblem(
          'unprocessable',
          `partitions can only grow (${topic.partitions} → ${partitions})`,
          {
            errors: [
              { path: '/partitions', message: `must be at least ${topic.partitions}`, code: 'too_small' },
            ],
          },
        );
      if (partitions !== undefined) {
        const used = partitionsInUse(topics) - topic.partitions + partitions;
        if (used > ins.partitionLimit)
          throw new ApiProblem(
            'quota_exceeded',
            `${used} partitions would exceed the instance's limit of ${ins.partitionLimit}`,
          );
      }
      const input = {
        name: topic.name,
        ...(partitions !== undefined ? { partitions } : {}),
        ...(Object.keys(configs).length > 0 ? { configs } : {}),
        ...(removeConfigs.length > 0 ? { removeConfigs } : {}),
      };
      const { operation } = await inTransactionWithOperation(prisma, queue, async (tx) => {
        const operation = await createOperation(tx, p, {
          accountId: ins.accountId,
          instanceId: ins.id,
          kind: 'topic.update',
          target: resource,
          input,
        });
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'ModifyTopic',
          resource,
          details: { ...input, operationId: operation.id },
        });
        return { operation };
      });
      reply.code(202).header('location', `/v1/operations/${operation.id}`);
      return {
        topic: {
          ...topic,
          partitions: partitions ?? topic.partitions,
          configs: Object.fromEntries(
            Object.entries({ ...topic.configs, ...configs }).filter(([k]) => !removeConfigs.includes(k)),
          ),
          operationId: operation.id,
        },
        operation: operationView(operation),
      };
    },
  );

  app.delete(
    '/v1/instances/:instanceId/topics/:topic',
    {
      schema: {
        tags: ['topics'],
        summary: 'Delete a topic',
        params: TopicParams,
        response: { 202: Accepted, ...problems(409, 502) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      const resource = `instance/${ins.id}/topic/${req.params.topic}`;
      await access.require(p, 'kafka:DeleteTopic', ins.accountId, resource);
      const topic = (await currentTopics(ins)).find((t) => t.name === req.params.topic);
      if (!topic) throw notFound('topic');
      const { operation } = await inTransactionWithOperation(prisma, queue, async (tx) => {
        const operation = await createOperation(tx, p, {
          accountId: ins.accountId,
          instanceId: ins.id,
          kind: 'topic.delete',
          target: resource,
          input: { name: topic.name },
        });
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'DeleteTopic',
          resource,
          details: { operationId: operation.id },
        });
        return { operation };
      });
      reply.code(202).header('location', `/v1/operations/${operation.id}`);
      return {
        topic: { ...topic, status: 'deleting' as const, operationId: operation.id },
        operation: operationView(operation),
      };
    },
  );
};
