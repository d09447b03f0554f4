import { CreateGrant, Grant, idSchema, newId, PageQuery, pageOf } from '@fjord/contracts';
import type { CollaboratorGrant } from '@fjord/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { decodeCursor, pageFrom } from '../http/pagination.js';
import { ApiProblem, notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { problems, type RouteDeps } from './common.js';

const grantView = (g: CollaboratorGrant) => ({
  id: g.id,
  ownerAccountId: g.ownerAccountId,
  granteeAccountId: g.granteeAccountId,
  actions: g.actions,
  resources: g.resources,
  createdAt: g.createdAt.toISOString(),
});

/** Collaborator grants: a root account lets another root account act on some of its resources. */
export type GrantRoutesOptions = Pick<RouteDeps, 'prisma' | 'access'>;

export const grantRoutes: FastifyPluginAsyncZod<GrantRoutesOptions> = async (app, deps) => {
  const { prisma, access } = deps;
  const root = (p: ReturnType<typeof requirePrincipal>) => {
    if (p.kind === 'operator') throw new ApiProblem('forbidden', 'grants are between accounts');
    return p.accountId;
  };

  app.post(
    '/v1/grants',
    {
      schema: {
        tags: ['iam'],
        summary: 'Grant another root account access to resources of this account',
        body: CreateGrant,
        response: { 201: Grant, ...problems(422) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const owner = root(p);
      await access.require(p, 'iam:CreateGrant', owner, 'grant/*');
      if (req.body.granteeAccountId === owner)
        throw new ApiProblem('unprocessable', 'an account cannot grant itself');
      if (!(await prisma.account.findUnique({ where: { id: req.body.granteeAccountId } })))
        throw notFound('account');
      const g = await prisma.$transaction(async (tx) => {
        const row = await tx.collaboratorGrant.create({
          data: { id: newId('grant'), ownerAccountId: owner, ...req.body },
        });
        await recordAudit(tx, p, {
          accountId: owner,
          action: 'CreateGrant',
          resource: `grant/${row.id}`,
          details: { granteeAccountId: row.granteeAccountId },
        });
        return row;
      });
      reply.code(201);
      return grantView(g);
    },
  );

  app.get(
    '/v1/grants',
    {
      schema: {
        tags: ['iam'],
        summary: 'List grants given by (default) or received by this account',
        querystring: PageQuery.extend({ direction: z.enum(['given', 'received']).default('given') }),
        response: { 200: pageOf(Grant), ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const me = root(p);
      await access.require(p, 'iam:ListGrants', me, 'grant/*');
      const after = decodeCursor(req.query.cursor);
      const rows = await prisma.collaboratorGrant.findMany({
        where: {
          ...(req.query.direction === 'given' ? { ownerAccountId: me } : { granteeAccountId: me }),
          ...(after ? { id: { gt: after } } : {}),
        },
        orderBy: { id: 'asc' },
        take: req.query.limit + 1,
      });
      const page = pageFrom(rows, req.query.limit, (g) => g.id);
      return { items: page.items.map(grantView), nextCursor: page.nextCursor };
    },
  );

  app.delete(
    '/v1/grants/:grantId',
    {
      schema: {
        tags: ['iam'],
        summary: 'Revoke a grant',
        params: z.object({ grantId: idSchema('grant') }),
        response: { 204: z.undefined(), ...problems() },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const g = await prisma.collaboratorGrant.findUnique({ where: { id: req.params.grantId } });
      if (!g) throw notFound('grant');
      await access.require(p, 'iam:DeleteGrant', g.ownerAccountId, `grant/${g.id}`);
      await prisma.$transaction(async (tx) => {
        await tx.collaboratorGrant.delete({ where: { id: g.id } });
        await recordAudit(tx, p, {
          accountId: g.ownerAccountId,
          action: 'DeleteGrant',
          resource: `grant/${g.id}`,
        });
      });
      return reply.code(204).send();
    },
  );
};
