import { instanceId, Message, MessagePage, MessageQuery, ProduceMessage, TopicName } from '@fjord/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { problems, type RouteDeps } from './common.js';
import { loadInstance } from './instances.js';

const TopicParams = z.object({ instanceId, topic: TopicName });
const PartitionParams = TopicParams.extend({ partition: z.coerce.number().int().min(0).max(9999) });

/** The console's message browser: bounded pages by offset or time, and producing one record. */
export type MessageRoutesOptions = Pick<RouteDeps, 'prisma' | 'pool' | 'access' | 'cluster'>;

export const messageRoutes: FastifyPluginAsyncZod<MessageRoutesOptions> = async (app, deps) => {
  const { prisma, access, cluster } = deps;

  app.get(
    '/v1/instances/:instanceId/topics/:topic/partitions/:partition/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'Read a page of records of one partition, from an offset, a timestamp, or the latest N',
        params: PartitionParams,
        querystring: MessageQuery,
        response: { 200: MessagePage, ...problems(409, 502) },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      await access.require(
        p,
        'kafka:ReadMessages',
        ins.accountId,
        `instance/${ins.id}/topic/${req.params.topic}`,
      );
      const q = req.query;
      const from =
        q.timestamp !== undefined
          ? { timestamp: q.timestamp }
          : q.latest !== undefined
            ? { latest: q.latest }
            : { offset: q.offset ?? 0 };
      const page = await cluster.readMessages(
        ins.id,
        ins.brokers,
        req.params.topic,
        req.params.partition,
        from,
        q.limit,
      );
      if (!page) throw notFound('partition');
      return page;
    },
  );

  app.post(
    '/v1/instances/:instanceId/topics/:topic/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'Produce one record (instant; acks=all)',
        params: TopicParams,
        body: ProduceMessage,
        response: { 200: Message.pick({ partition: true, offset: true }), ...problems(409, 502) },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      const resource = `instance/${ins.id}/topic/${req.params.topic}`;
      await access.require(p, 'kafka:ProduceMessage', ins.accountId, resource);
      const r = await cluster.produce(ins.id, ins.brokers, req.params.topic, req.body);
      if (!r) throw notFound('partition');
      await prisma.$transaction((tx) =>
        recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'ProduceMessage',
          resource,
          details: { ...r, bytes: req.body.value.length },
        }),
      );
      return r;
    },
  );
};
