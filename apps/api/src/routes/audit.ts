import { AuditEvent, idSchema, PageQuery, pageOf } from '@fjord/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { decodeCursor, pageFrom } from '../http/pagination.js';
import { problems, type RouteDeps } from './common.js';

export type AuditRoutesOptions = Pick<RouteDeps, 'prisma' | 'access'>;

export const auditRoutes: FastifyPluginAsyncZod<AuditRoutesOptions> = async (app, deps) => {
  const { prisma, access } = deps;
  app.get(
    '/v1/audit-events',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit trail of every mutation, newest first',
        querystring: PageQuery.extend({
          action: z.string().max(64).optional(),
          resource: z.string().max(256).optional().describe('exact resource, e.g. instance/ins-…'),
          accountId: idSchema('account').optional().describe('operators only: one account'),
        }),
        response: { 200: pageOf(AuditEvent), ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const q = req.query;
      let accountId: string | undefined;
      if (p.kind === 'operator') accountId = q.accountId;
      else {
        accountId = p.accountId;
        await access.require(p, 'audit:ListEvents', accountId, 'audit/*');
      }
      const before = decodeCursor(q.cursor);
      if (before !== undefined && !/^\d{1,19}$/.test(before)) decodeCursor('!');
      const rows = await prisma.auditEvent.findMany({
        where: {
          ...(accountId ? { accountId } : {}),
          ...(q.action ? { action: q.action } : {}),
          ...(q.resource ? { resource: q.resource } : {}),
          ...(before ? { id: { lt: BigInt(before) } } : {}),
        },
        orderBy: { id: 'desc' },
        take: q.limit + 1,
      });
      const page = pageFrom(rows, q.limit, (e) => e.id.toString());
      return {
        items: page.items.map((e) => ({
          id: e.id.toString(),
          accountId: e.accountId,
          actor: e.actor,
          action: e.action,
          resource: e.resource,
          at: e.at.toISOString(),
          details: e.details as Record<string, unknown>,
        })),
        nextCursor: page.nextCursor,
      };
    },
  );
};
