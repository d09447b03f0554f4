import { ApiKey, CreateApiKey, CreatedApiKey, idSchema, newId, PageQuery, pageOf } from '@fjord/contracts';
import type { ApiKey as ApiKeyRow, PrismaClient } from '@fjord/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { hashSecret, newSecret } from '../auth/secrets.js';
import { decodeCursor, pageFrom } from '../http/pagination.js';
import { notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { problems, type RouteDeps } from './common.js';

const keyView = (k: ApiKeyRow) => ({
  id: k.id,
  accountId: k.accountId,
  subAccountId: k.subAccountId,
  description: k.description,
  createdAt: k.createdAt.toISOString(),
});

export async function createApiKey(
  prisma: PrismaClient,
  p: Principal,
  accountId: string,
  subAccountId: string | undefined,
  description: string | undefined,
) {
  const secret = newSecret();
  const key = await prisma.$transaction(async (tx) => {
    const k = await tx.apiKey.create({
      data: {
        id: newId('apiKey'),
        accountId,
        subAccountId: subAccountId ?? null,
        secretHash: hashSecret(secret),
        description: description ?? null,
      },
    });
    await recordAudit(tx, p, {
      accountId,
      action: 'CreateApiKey',
      resource: `apikey/${k.id}`,
      details: { subAccountId: subAccountId ?? null },
    });
    return k;
  });
  return { ...keyView(key), secret };
}

export type ApiKeyRoutesOptions = Pick<RouteDeps, 'prisma' | 'access'>;

export const apiKeyRoutes: FastifyPluginAsyncZod<ApiKeyRoutesOptions> = async (app, deps) => {
  const { prisma, access } = deps;
  app.post(
    '/v1/api-keys',
    {
      schema: {
        tags: ['iam'],
        summary: 'Create an API key pair for the account root or one of its sub-accounts (secret shown once)',
        body: CreateApiKey,
        response: { 201: CreatedApiKey, ...problems() },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      if (p.kind === 'operator') throw notFound('account');
      await access.require(p, 'iam:CreateApiKey', p.accountId, `apikey/*`);
      if (req.body.subAccountId) {
        const sub = await prisma.subAccount.findUnique({ where: { id: req.body.subAccountId } });
        if (!sub || sub.accountId !== p.accountId) throw notFound('sub-account');
      } else if (p.kind === 'sub') {
        // A sub-account may not mint keys of its root.
        await access.require(p, 'iam:CreateApiKey', p.accountId, 'apikey/root');
      }
      reply.code(201);
      return createApiKey(prisma, p, p.accountId, req.body.subAccountId, req.body.description);
    },
  );

  app.get(
    '/v1/api-keys',
    {
      schema: {
        tags: ['iam'],
        summary: 'List API keys of the account (secrets are never shown again)',
        querystring: PageQuery.extend({ subAccountId: idSchema('subAccount').optional() }),
        response: { 200: pageOf(ApiKey), ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      if (p.kind === 'operator') return { items: [], nextCursor: null };
      await access.require(p, 'iam:ListApiKeys', p.accountId, 'apikey/*');
      const after = decodeCursor(req.query.cursor);
      const rows = await prisma.apiKey.findMany({
        where: {
          accountId: p.accountId,
          revokedAt: null,
          ...(after ? { id: { gt: after } } : {}),
          ...(req.query.subAccountId ? { subAccountId: req.query.subAccountId } : {}),
        },
        orderBy: { id: 'asc' },
        take: req.query.limit + 1,
      });
      const page = pageFrom(rows, req.query.limit, (k) => k.id);
      return { items: page.items.map(keyView), nextCursor: page.nextCursor };
    },
  );

  app.delete(
    '/v1/api-keys/:keyId',
    {
      schema: {
        tags: ['iam'],
        summary: 'Revoke an API key (tokens already issued expire on their own)',
        params: z.object({ keyId: idSchema('apiKey') }),
        response: { 204: z.undefined(), ...problems() },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const key = await prisma.apiKey.findUnique({ where: { id: req.params.keyId } });
      if (!key || key.revokedAt) throw notFound('API key');
      await access.require(p, 'iam:DeleteApiKey', key.accountId, `apikey/${key.id}`);
      await prisma.$transaction(async (tx) => {
        await tx.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
        await recordAudit(tx, p, {
          accountId: key.accountId,
          action: 'DeleteApiKey',
          resource: `apikey/${key.id}`,
        });
      });
      return reply.code(204).send();
    },
  );
};
