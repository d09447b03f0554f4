import { idSchema, instanceId, Operation, OperationStatus, PageQuery, pageOf } from '@fjord/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { decodeCursor, pageFrom } from '../http/pagination.js';
import { notFound } from '../problem.js';
import { operationView } from '../views/operationView.js';
import { problems, type RouteDeps } from './common.js';

export type OperationRoutesOptions = Pick<RouteDeps, 'prisma' | 'access'>;

export const operationRoutes: FastifyPluginAsyncZod<OperationRoutesOptions> = async (app, deps) => {
  const { prisma, access } = deps;
  app.get(
    '/v1/operations/:operationId',
    {
      schema: {
        tags: ['operations'],
        summary: 'Get an operation (poll until succeeded or failed)',
        params: z.object({ operationId: idSchema('operation') }),
        response: { 200: Operation, ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const op = await prisma.operation.findUnique({ where: { id: req.params.operationId } });
      if (!op) throw notFound('operation');
      await access.require(p, 'kafka:DescribeOperation', op.accountId, op.target, 'operation');
      return operationView(op);
    },
  );

  app.get(
    '/v1/operations',
    {
      schema: {
        tags: ['operations'],
        summary: 'List operations, newest first',
        querystring: PageQuery.extend({
          instanceId: instanceId.optional(),
          status: OperationStatus.optional(),
          accountId: idSchema('account')
            .optional()
            .describe('another account, through a grant (operators: any)'),
        }),
        response: { 200: pageOf(Operation), ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const q = req.query;
      const accountId = await access.listScope(
        p,
        'kafka:DescribeOperation',
        q.instanceId ? `instance/${q.instanceId}` : 'instance/*',
        q.accountId,
      );
      const before = decodeCursor(q.cursor);
      const rows = await prisma.operation.findMany({
        where: {
          ...(accountId ? { accountId } : {}),
          ...(q.instanceId ? { instanceId: q.instanceId } : {}),
          ...(q.status ? { status: q.status.toUpperCase() as 'PENDING' } : {}),
          ...(before ? { id: { lt: before } } : {}),
        },
        orderBy: { id: 'desc' },
        take: q.limit + 1,
      });
      const page = pageFrom(rows, q.limit, (o) => o.id);
      return { items: page.items.map(operationView), nextCursor: page.nextCursor };
    },
  );
};
