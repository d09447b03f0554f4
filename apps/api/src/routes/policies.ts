import { CreatePolicy, idSchema, newId, PageQuery, Policy, pageOf } from '@fjord/contracts';
import type { Policy as PolicyRow } from '@fjord/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { decodeCursor, pageFrom } from '../http/pagination.js';
import { ApiProblem, notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { problems, type RouteDeps } from './common.js';

const policyView = (x: PolicyRow) => ({
  id: x.id,
  accountId: x.accountId,
  name: x.name,
  effect: x.effect === 'DENY' ? ('deny' as const) : ('allow' as const),
  actions: x.actions,
  resources: x.resources,
  createdAt: x.createdAt.toISOString(),
});

const Params = z.object({ policyId: idSchema('policy') });

export type PolicyRoutesOptions = Pick<RouteDeps, 'prisma' | 'access'>;

export const policyRoutes: FastifyPluginAsyncZod<PolicyRoutesOptions> = async (app, deps) => {
  const { prisma, access } = deps;
  const tenant = (p: ReturnType<typeof requirePrincipal>) => {
    if (p.kind === 'operator')
      throw new ApiProblem('forbidden', 'policies belong to accounts; use an account key');
    return p.accountId;
  };

  app.post(
    '/v1/policies',
    {
      schema: {
        tags: ['iam'],
        summary: 'Create a policy (attach it to sub-accounts to take effect)',
        body: CreatePolicy,
        response: { 201: Policy, ...problems(409) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const accountId = tenant(p);
      await access.require(p, 'iam:CreatePolicy', accountId, 'policy/*');
      if (await prisma.policy.findUnique({ where: { accountId_name: { accountId, name: req.body.name } } }))
        throw new ApiProblem('name_taken', `a policy named ${req.body.name} exists`);
      const created = await prisma.$transaction(async (tx) => {
        const row = await tx.policy.create({
          data: {
            id: newId('policy'),
            accountId,
            name: req.body.name,
            effect: req.body.effect === 'deny' ? 'DENY' : 'ALLOW',
            actions: req.body.actions,
            resources: req.body.resources,
          },
        });
        await recordAudit(tx, p, { accountId, action: 'CreatePolicy', resource: `policy/${row.id}` });
        return row;
      });
      reply.code(201).header('location', `/v1/policies/${created.id}`);
      return policyView(created);
    },
  );

  app.get(
    '/v1/policies',
    {
      schema: {
        tags: ['iam'],
        summary: 'List policies',
        querystring: PageQuery.extend({ effect: z.enum(['allow', 'deny']).optional() }),
        response: { 200: pageOf(Policy), ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const accountId = tenant(p);
      await access.require(p, 'iam:ListPolicies', accountId, 'policy/*');
      const after = decodeCursor(req.query.cursor);
      const rows = await prisma.policy.findMany({
        where: {
          accountId,
          ...(after ? { id: { gt: after } } : {}),
          ...(req.query.effect ? { effect: req.query.effect === 'deny' ? 'DENY' : 'ALLOW' } : {}),
        },
        orderBy: { id: 'asc' },
        take: req.query.limit + 1,
      });
      const page = pageFrom(rows, req.query.limit, (x) => x.id);
      return { items: page.items.map(policyView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/policies/:policyId',
    {
      schema: {
        tags: ['iam'],
        summary: 'Get a policy',
        params: Params,
        response: { 200: Policy, ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const row = await prisma.policy.findUnique({ where: { id: req.params.policyId } });
      if (!row) throw notFound('policy');
      await access.require(p, 'iam:ListPolicies', row.accountId, `policy/${row.id}`);
      return policyView(row);
    },
  );

  app.delete(
    '/v1/policies/:policyId',
    {
      schema: {
        tags: ['iam'],
        summary: 'Delete a policy (detaches it everywhere)',
        params: Params,
        response: { 204: z.undefined(), ...problems() },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const row = await prisma.policy.findUnique({ where: { id: req.params.policyId } });
      if (!row) throw notFound('policy');
      await access.require(p, 'iam:DeletePolicy', row.accountId, `policy/${row.id}`);
      await prisma.$transaction(async (tx) => {
        await tx.policy.delete({ where: { id: row.id } });
        await recordAudit(tx, p, {
          accountId: row.accountId,
          action: 'DeletePolicy',
          resource: `policy/${row.id}`,
        });
      });
      return reply.code(204).send();
    },
  );
};
