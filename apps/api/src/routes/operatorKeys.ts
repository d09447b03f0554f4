import { CreatedOperatorKey, CreateOperatorKey, idSchema, newId, OperatorKey } from '@fjord/contracts';
import type { OperatorKey as OperatorKeyRow } from '@fjord/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { hashSecret, newSecret } from '../auth/secrets.js';
import { ApiProblem, notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { problems, type RouteDeps } from './common.js';

const keyView = (k: OperatorKeyRow) => ({
  id: k.id,
  name: k.name,
  createdAt: k.createdAt.toISOString(),
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

export type OperatorKeyRoutesOptions = Pick<RouteDeps, 'prisma' | 'access'>;

/**
 * The operator role's keys: listed, created (the secret shown once) and revoked by operators.
 * A revoked key exchanges for no new token; tokens it already gave expire on their own. The last
 * active key cannot be revoked, so the fleet never loses its operators.
 */
export const operatorKeyRoutes: FastifyPluginAsyncZod<OperatorKeyRoutesOptions> = async (app, deps) => {
  const { prisma, access } = deps;

  app.get(
    '/v1/operator-keys',
    {
      schema: {
        tags: ['iam'],
        summary: 'List operator keys, revoked ones included; operator only',
        response: { 200: z.object({ items: z.array(OperatorKey) }), ...problems() },
      },
    },
    async (req) => {
      access.requireOperator(requirePrincipal(req));
      const rows = await prisma.operatorKey.findMany({ orderBy: { createdAt: 'asc' } });
      return { items: rows.map(keyView) };
    },
  );

  app.post(
    '/v1/operator-keys',
    {
      schema: {
        tags: ['iam'],
        summary: 'Create an operator key (the secret is shown once); operator only',
        body: CreateOperatorKey,
        response: { 201: CreatedOperatorKey, ...problems() },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      access.requireOperator(p);
      const secret = newSecret();
      const key = await prisma.$transaction(async (tx) => {
        const k = await tx.operatorKey.create({
          data: { id: newId('operatorKey'), name: req.body.name, secretHash: hashSecret(secret) },
        });
        await recordAudit(tx, p, {
          accountId: null,
          action: 'CreateOperatorKey',
          resource: `operatorkey/${k.id}`,
        });
        return k;
      });
      reply.code(201);
      return { ...keyView(key), secret };
    },
  );

  app.delete(
    '/v1/operator-keys/:operatorKeyId',
    {
      schema: {
        tags: ['iam'],
        summary: 'Revoke an operator key (not the last active one); operator only',
        params: z.object({ operatorKeyId: idSchema('operatorKey') }),
        response: { 204: z.null(), ...problems(422) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      access.requireOperator(p);
      await prisma.$transaction(async (tx) => {
        // Serialises revocations, so two cannot each leave the other as the last key.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('fjord_operator_keys'))`;
        const key = await tx.operatorKey.findUnique({ where: { id: req.params.operatorKeyId } });
        if (!key) throw notFound('operator key');
        if (key.revokedAt) return;
        if ((await tx.operatorKey.count({ where: { revokedAt: null } })) <= 1)
          throw new ApiProblem(
            'unprocessable',
            'the last active operator key cannot be revoked; create another first',
          );
        await tx.operatorKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
        await recordAudit(tx, p, {
          accountId: null,
          action: 'RevokeOperatorKey',
          resource: `operatorkey/${key.id}`,
        });
      });
      return reply.code(204).send(null);
    },
  );
};
