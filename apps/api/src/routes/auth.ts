import { Problem, TokenRequest, TokenResponse } from '@fjord/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { actorOf, type Principal } from '../auth/principal.js';
import { secretMatches } from '../auth/secrets.js';
import { ApiProblem } from '../problem.js';
import { recordAttempt } from '../services/audit.js';
import type { RouteDeps } from './common.js';

export type AuthRoutesOptions = Pick<RouteDeps, 'prisma' | 'tokens'>;

type Exchange =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly accountId: string | null; readonly reason: string };

export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, deps) => {
  const { prisma, tokens } = deps;

  const exchange = async (keyId: string, secret: string): Promise<Exchange> => {
    if (keyId.startsWith('opk-')) {
      const k = await prisma.operatorKey.findUnique({ where: { id: keyId } });
      if (!k) return { ok: false, accountId: null, reason: 'unknown key' };
      if (k.revokedAt) return { ok: false, accountId: null, reason: 'revoked key' };
      if (!secretMatches(secret, k.secretHash)) return { ok: false, accountId: null, reason: 'wrong secret' };
      return { ok: true, principal: { kind: 'operator', id: k.id } };
    }
    const k = await prisma.apiKey.findUnique({ where: { id: keyId } });
    if (!k) return { ok: false, accountId: null, reason: 'unknown key' };
    if (k.revokedAt) return { ok: false, accountId: k.accountId, reason: 'revoked key' };
    if (!secretMatches(secret, k.secretHash))
      return { ok: false, accountId: k.accountId, reason: 'wrong secret' };
    return {
      ok: true,
      principal: k.subAccountId
        ? { kind: 'sub', id: k.subAccountId, accountId: k.accountId }
        : { kind: 'root', id: k.accountId, accountId: k.accountId },
    };
  };

  app.post(
    '/v1/auth/token',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange an API key pair for a short-lived bearer token',
        security: [],
        body: TokenRequest,
        response: { 200: TokenResponse, 400: Problem, 401: Problem, 429: Problem, 503: Problem },
      },
    },
    async (req) => {
      const { keyId, secret } = req.body;
      const result = await exchange(keyId, secret);
      // Every exchange is audited in the key's account (unknown keys: the platform chain).
      const resource = keyId.startsWith('opk-') ? `operatorkey/${keyId}` : `apikey/${keyId}`;
      if (!result.ok) {
        await recordAttempt(prisma, `address/${req.ip}`, 'DENIED', {
          accountId: result.accountId,
          action: 'ExchangeToken',
          resource,
          details: { reason: result.reason },
        });
        // One answer for unknown keys and wrong secrets, so key ids cannot be probed.
        throw new ApiProblem('invalid_credentials', 'unknown key or wrong secret');
      }
      const p = result.principal;
      await recordAttempt(prisma, actorOf(p), 'SUCCEEDED', {
        accountId: p.kind === 'operator' ? null : p.accountId,
        action: 'ExchangeToken',
        resource,
        details: { address: req.ip },
      });
      return { accessToken: tokens.issue(p), tokenType: 'Bearer' as const, expiresIn: tokens.ttlSeconds };
    },
  );
};
