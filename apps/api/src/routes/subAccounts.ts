import { CreateSubAccount, idSchema, newId, PageQuery, pageOf, SubAccount } from '@fjord/contracts';
import type { SubAccount as SubAccountRow } from '@fjord/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { decodeCursor, pageFrom } from '../http/pagination.js';
import { ApiProblem, notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { problems, type RouteDeps } from './common.js';

const subView = (s: SubAccountRow & { policies: { policyId: string }[] }) => ({
  id: s.id,
  accountId: s.accountId,
  name: s.name,
  policyIds: s.policies.map((x) => x.policyId).sort(),
  createdAt: s.createdAt.toISOString(),
});

const tenantOf = (p: Principal): string => {
  if (p.kind === 'operator')
    throw new ApiProblem('forbidden', 'operators have no sub-accounts; use an account key');
  return p.accountId;
};

const SubParams = z.object({ subAccountId: idSchema('subAccount') });
const AttachParams = SubParams.extend({ policyId: idSchema('policy') });

export type SubAccountRoutesOptions = Pick<RouteDeps, 'prisma' | 'access'>;

export const subAccountRoutes: FastifyPluginAsyncZod<SubAccountRoutesOptions> = async (app, deps) => {
  const { prisma, access } = deps;
  const load = async (p: Principal, id: string, action: Parameters<typeof access.require>[1]) => {
    const s = await prisma.subAccount.findUnique({ where: { id }, include: { policies: true } });
    if (!s) throw notFound('sub-account');
    await access.require(p, action, s.accountId, `subaccount/${s.id}`);
    return s;
  };

  app.post(
    '/v1/sub-accounts',
    {
      schema: {
        tags: ['iam'],
        summary: 'Create a sub-account of the calling root account',
        body: CreateSubAccount,
        response: { 201: SubAccount, ...problems(409) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const accountId = tenantOf(p);
      await access.require(p, 'iam:CreateSubAccount', accountId, `subaccount/*`);
      const id = newId('subAccount');
      const s = await prisma.$transaction(async (tx) => {
        // A duplicate name fails on the unique index and answers 409 name_taken.
        const created = await tx.subAccount.create({ data: { id, accountId, name: req.body.name } });
        await recordAudit(tx, p, { accountId, action: 'CreateSubAccount', resource: `subaccount/${id}` });
        return created;
      });
      reply.code(201).header('location', `/v1/sub-accounts/${s.id}`);
      return subView({ ...s, policies: [] });
    },
  );

  app.get(
    '/v1/sub-accounts',
    {
      schema: {
        tags: ['iam'],
        summary: 'List sub-accounts',
        querystring: PageQuery.extend({ name: z.string().max(64).optional() }),
        response: { 200: pageOf(SubAccount), ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const accountId = tenantOf(p);
      await access.require(p, 'iam:ListSubAccounts', accountId, 'subaccount/*');
      const after = decodeCursor(req.query.cursor);
      const rows = await prisma.subAccount.findMany({
        where: {
          accountId,
          ...(after ? { id: { gt: after } } : {}),
          ...(req.query.name ? { name: req.query.name } : {}),
        },
        include: { policies: true },
        orderBy: { id: 'asc' },
        take: req.query.limit + 1,
      });
      const page = pageFrom(rows, req.query.limit, (s) => s.id);
      return { items: page.items.map(subView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/sub-accounts/:subAccountId',
    {
      schema: {
        tags: ['iam'],
        summary: 'Get a sub-account',
        params: SubParams,
        response: { 200: SubAccount, ...problems() },
      },
    },
    async (req) => subView(await load(requirePrincipal(req), req.params.subAccountId, 'iam:ListSubAccounts')),
  );

  app.delete(
    '/v1/sub-accounts/:subAccountId',
    {
      schema: {
        tags: ['iam'],
        summary: 'Delete a sub-account and its keys',
        params: SubParams,
        response: { 204: z.undefined(), ...problems() },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const s = await load(p, req.params.subAccountId, 'iam:DeleteSubAccount');
      await prisma.$transaction(async (tx) => {
        await tx.subAccount.delete({ where: { id: s.id } });
        await recordAudit(tx, p, {
          accountId: s.accountId,
          action: 'DeleteSubAccount',
          resource: `subaccount/${s.id}`,
        });
      });
      return reply.code(204).send();
    },
  );

  app.put(
    '/v1/sub-accounts/:subAccountId/policies/:policyId',
    {
      schema: {
        tags: ['iam'],
        summary: 'Attach a policy to a sub-account (idempotent)',
        params: AttachParams,
        response: { 204: z.undefined(), ...problems() },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const s = await load(p, req.params.subAccountId, 'iam:AttachPolicy');
      const policy = await prisma.policy.findUnique({ where: { id: req.params.policyId } });
      if (!policy || policy.accountId !== s.accountId) throw notFound('policy');
      await prisma.$transaction(async (tx) => {
        await tx.policyAttachment.createMany({
          data: [{ policyId: policy.id, subAccountId: s.id }],
          skipDuplicates: true,
        });
        await recordAudit(tx, p, {
          accountId: s.accountId,
          action: 'AttachPolicy',
          resource: `subaccount/${s.id}`,
          details: { policyId: policy.id },
        });
      });
      return reply.code(204).send();
    },
  );

  app.delete(
    '/v1/sub-accounts/:subAccountId/policies/:policyId',
    {
      schema: {
        tags: ['iam'],
        summary: 'Detach a policy from a sub-account',
        params: AttachParams,
        response: { 204: z.undefined(), ...problems() },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const s = await load(p, req.params.subAccountId, 'iam:DetachPolicy');
      const removed = await prisma.$transaction(async (tx) => {
        const r = await tx.policyAttachment.deleteMany({
          where: { policyId: req.params.policyId, subAccountId: s.id },
        });
        if (r.count > 0)
          await recordAudit(tx, p, {
            accountId: s.accountId,
            action: 'DetachPolicy',
            resource: `subaccount/${s.id}`,
            details: { policyId: req.params.policyId },
          });
        return r.count;
      });
      if (removed === 0) throw notFound('policy attachment');
      return reply.code(204).send();
    },
  );
};
