import { Problem, TokenRequest, TokenResponse } from '@fjord/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { actorOf, type Principal } from '../auth/principal.js';
import { secretMatches } from '../auth/secrets.js';
import type { KeyLockout } from '../http/tokenExchangeLimits.js';
import { ApiProblem } from '../problem.js';
import { recordAttempt } from '../services/audit.js';
import type { RouteDeps } from './common.js';

export interface AuthRoutesOptions extends Pick<RouteDeps, 'prisma' | 'tokens'> {
  readonly lockout: KeyLockout;
}

type Exchange =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly accountId: string | null; readonly reason: string };

function accountOf(e: Exchange): string | null {
  if (!e.ok) return e.accountId;
  return e.principal.kind === 'operator' ? null : e.principal.accountId;
}

export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, deps) => {
  const { prisma, tokens, lockout } = deps;

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
      const lockedFor = await lockout.lockedForSeconds(req);
      const result = await exchange(keyId, secret);
      // Every exchange is audited in the key's account (unknown keys: the platform chain).
      const resource = keyId.startsWith('opk-') ? `operatorkey/${keyId}` : `apikey/${keyId}`;
      const deny = (accountId: string | null, reason: string) =>
        recordAttempt(prisma, `address/${req.ip}`, 'DENIED', {
          accountId,
          action: 'ExchangeToken',
          resource,
          details: { reason },
        });
      if (lockedFor > 0) {
        // The right secret does not help: the lockout is what stops guessing.
        await deny(accountOf(result), 'locked out');
        throw new ApiProblem('rate_limited', 'this key is locked out after repeated failures; retry later', {
          headers: { 'retry-after': String(lockedFor) },
        });
      }
      if (!result.ok) {
        await lockout.recordFailure(req);
        await deny(result.accountId, result.reason);
        // One answer for unknown keys and wrong secrets, so key ids cannot be probed.
        throw new ApiProblem('invalid_credentials', 'unknown key or wrong secret');
      }
      const p = result.principal;
      await recordAttempt(prisma, actorOf(p), 'SUCCEEDED', {
        accountId: accountOf(result),
        action: 'ExchangeToken',
        resource,
        details: { address: req.ip },
      });
      return { accessToken: tokens.issue(p), tokenType: 'Bearer' as const, expiresIn: tokens.ttlSeconds };
    },
  );
};
