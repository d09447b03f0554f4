import {
  Account,
  CreateAccount,
  CreateApiKey,
  CreatedApiKey,
  idSchema,
  newId,
  PageQuery,
  pageOf,
} from '@fjord/contracts';
import type { Account as AccountRow } from '@fjord/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { decodeCursor, pageFrom } from '../http/pagination.js';
import { ApiProblem, notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { createApiKey } from './apiKeys.js';
import { problems, type RouteDeps } from './common.js';

const accountView = (a: AccountRow) => ({ id: a.id, name: a.name, createdAt: a.createdAt.toISOString() });
const Params = z.object({ accountId: idSchema('account') });

export type AccountRoutesOptions = Pick<RouteDeps, 'prisma' | 'access'>;

export const accountRoutes: FastifyPluginAsyncZod<AccountRoutesOptions> = async (app, deps) => {
  const { prisma, access } = deps;
  app.post(
    '/v1/accounts',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Create a root account (tenant); operator only',
        body: CreateAccount,
        response: { 201: Account, ...problems(409) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      access.requireOperator(p);
      if (await prisma.account.findUnique({ where: { name: req.body.name } }))
        throw new ApiProblem('name_taken', `an account named ${req.body.name} exists`);
      const account = await prisma.$transaction(async (tx) => {
        const a = await tx.account.create({ data: { id: newId('account'), name: req.body.name } });
        await recordAudit(tx, p, { accountId: a.id, action: 'CreateAccount', resource: `account/${a.id}` });
        return a;
      });
      reply.code(201).header('location', `/v1/accounts/${account.id}`);
      return accountView(account);
    },
  );

  app.get(
    '/v1/accounts',
    {
      schema: {
        tags: ['accounts'],
        summary: 'List root accounts; operator only',
        querystring: PageQuery.extend({ name: z.string().max(64).optional() }),
        response: { 200: pageOf(Account), ...problems() },
      },
    },
    async (req) => {
      access.requireOperator(requirePrincipal(req));
      const after = decodeCursor(req.query.cursor);
      const rows = await prisma.account.findMany({
        where: {
          ...(after ? { id: { gt: after } } : {}),
          ...(req.query.name ? { name: req.query.name } : {}),
        },
        orderBy: { id: 'asc' },
        take: req.query.limit + 1,
      });
      const page = pageFrom(rows, req.query.limit, (a) => a.id);
      return { items: page.items.map(accountView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/accounts/:accountId',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Get an account (operators, or the account itself)',
        params: Params,
        response: { 200: Account, ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      if (p.kind !== 'operator' && p.accountId !== req.params.accountId) throw notFound('account');
      const a = await prisma.account.findUnique({ where: { id: req.params.accountId } });
      if (!a) throw notFound('account');
      return accountView(a);
    },
  );

  app.post(
    '/v1/accounts/:accountId/api-keys',
    {
      schema: {
        tags: ['accounts'],
        summary: "Create an API key for an account's root; operator only (bootstrap of a tenant)",
        params: Params,
        body: CreateApiKey.pick({ description: true }).default({}),
        response: { 201: CreatedApiKey, ...problems() },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      access.requireOperator(p);
      const a = await prisma.account.findUnique({ where: { id: req.params.accountId } });
      if (!a) throw notFound('account');
      reply.code(201);
      return createApiKey(prisma, p, a.id, undefined, req.body.description);
    },
  );
};
