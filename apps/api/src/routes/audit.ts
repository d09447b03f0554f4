import { Readable } from 'node:stream';
import {
  AuditEvent,
  AuditOutcome,
  idSchema,
  PageQuery,
  PLATFORM_AUDIT_CHAIN,
  pageOf,
} from '@fjord/contracts';
import type { AuditEvent as AuditRow, Prisma } from '@fjord/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { decodeCursor, invalidCursor, pageFrom } from '../http/pagination.js';
import { ApiProblem } from '../problem.js';
import { problems, type RouteDeps } from './common.js';

export type AuditRoutesOptions = Pick<RouteDeps, 'prisma' | 'access'>;

const TimeRange = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional().describe('events at or after this time'),
  to: z.iso.datetime({ offset: true }).optional().describe('events before this time'),
  accountId: idSchema('account')
    .optional()
    .describe('operators only: this account (without it: every account, or for export the platform chain)'),
});

function auditView(e: AuditRow): z.infer<typeof AuditEvent> {
  return {
    id: e.seq.toString(),
    accountId: e.accountId,
    actor: e.actor,
    action: e.action,
    resource: e.resource,
    outcome: e.outcome.toLowerCase() as AuditOutcome,
    at: e.at.toISOString(),
    details: e.details as Record<string, unknown>,
    prevHash: e.prevHash,
    hash: e.hash,
  };
}

function timeFilter(q: { from?: string | undefined; to?: string | undefined }): Prisma.AuditEventWhereInput {
  if (q.from && q.to && Date.parse(q.from) >= Date.parse(q.to))
    throw new ApiProblem('validation_failed', 'from must be before to', {
      errors: [{ path: 'query/from', message: 'must be before to', code: 'invalid_range' }],
    });
  return q.from || q.to
    ? { at: { ...(q.from ? { gte: new Date(q.from) } : {}), ...(q.to ? { lt: new Date(q.to) } : {}) } }
    : {};
}

/** `{chain}/{seq}` of the last event of a page. */
function cursorOf(e: AuditRow): string {
  return `${e.chain}/${e.seq}`;
}

function chainCursor(cursor: string | undefined): { chain: string; seq: bigint } | undefined {
  const v = decodeCursor(cursor);
  if (v === undefined) return undefined;
  const m = /^([^/]+)\/(\d{1,19})$/.exec(v);
  if (!m) throw invalidCursor();
  return { chain: m[1]!, seq: BigInt(m[2]!) };
}

export const auditRoutes: FastifyPluginAsyncZod<AuditRoutesOptions> = async (app, deps) => {
  const { prisma, access } = deps;

  /** The chain a tenant sees (its own); an operator's pick, or undefined for all. */
  const chainOf = async (p: Principal, requested: string | undefined): Promise<string | undefined> => {
    if (p.kind === 'operator') return requested;
    await access.require(p, 'audit:ListEvents', p.accountId, 'audit/*');
    return p.accountId;
  };

  app.get(
    '/v1/audit-events',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit trail of every mutation, refusal and token exchange, newest first',
        querystring: PageQuery.extend({
          action: z.string().max(64).optional(),
          resource: z.string().max(256).optional().describe('exact resource, e.g. instance/ins-…'),
          outcome: AuditOutcome.optional(),
        }).extend(TimeRange.shape),
        response: { 200: pageOf(AuditEvent), ...problems() },
      },
    },
    async (req) => {
      const q = req.query;
      const chain = await chainOf(requirePrincipal(req), q.accountId);
      const after = chainCursor(q.cursor);
      const rows = await prisma.auditEvent.findMany({
        where: {
          ...(chain ? { chain } : {}),
          ...(q.action ? { action: q.action } : {}),
          ...(q.resource ? { resource: q.resource } : {}),
          ...(q.outcome ? { outcome: q.outcome.toUpperCase() as 'SUCCEEDED' } : {}),
          ...timeFilter(q),
        },
        // One chain in its own order; across chains by time.
        orderBy: chain ? [{ seq: 'desc' }] : [{ at: 'desc' }, { chain: 'desc' }, { seq: 'desc' }],
        ...(after ? { cursor: { chain_seq: after }, skip: 1 } : {}),
        take: q.limit + 1,
      });
      const page = pageFrom(rows, q.limit, cursorOf);
      return { items: page.items.map(auditView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/audit-events/export',
    {
      schema: {
        tags: ['audit'],
        summary:
          "Export one account's audit chain as NDJSON, oldest first (verify with `fjord audit verify`)",
        querystring: TimeRange,
        response: {
          200: z.string().describe('application/x-ndjson: one AuditEvent per line'),
          ...problems(),
        },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const chain = (await chainOf(p, req.query.accountId)) ?? PLATFORM_AUDIT_CHAIN;
      const where = { chain, ...timeFilter(req.query) };
      async function* lines() {
        let after: bigint | undefined;
        for (;;) {
          const rows = await prisma.auditEvent.findMany({
            where: { ...where, ...(after !== undefined ? { seq: { gt: after } } : {}) },
            orderBy: { seq: 'asc' },
            take: 500,
          });
          if (rows.length > 0) yield `${rows.map((r) => JSON.stringify(auditView(r))).join('\n')}\n`;
          if (rows.length < 500) return;
          after = rows[rows.length - 1]!.seq;
        }
      }
      // Streamed as it is read (fastify does not serialise streams); the 200 schema documents the text.
      return reply.type('application/x-ndjson').send(Readable.from(lines()) as unknown as string);
    },
  );
};
