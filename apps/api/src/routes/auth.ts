import { Problem, TokenRequest, TokenResponse } from '@fjord/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Principal } from '../auth/principal.js';
import { secretMatches } from '../auth/secrets.js';
import { ApiProblem } from '../problem.js';
import type { RouteDeps } from './common.js';

export type AuthRoutesOptions = Pick<RouteDeps, 'prisma' | 'tokens'>;

export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, deps) => {
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
      let principal: Principal | undefined;
      if (keyId.startsWith('opk-')) {
        const k = await deps.prisma.operatorKey.findUnique({ where: { id: keyId } });
        if (k && !k.revokedAt && secretMatches(secret, k.secretHash))
          principal = { kind: 'operator', id: k.id };
      } else {
        const k = await deps.prisma.apiKey.findUnique({ where: { id: keyId } });
        if (k && !k.revokedAt && secretMatches(secret, k.secretHash))
          principal = k.subAccountId
            ? { kind: 'sub', id: k.subAccountId, accountId: k.accountId }
            : { kind: 'root', id: k.accountId, accountId: k.accountId };
      }
      // One answer for unknown keys and wrong secrets, so key ids cannot be probed.
      if (!principal) throw new ApiProblem('invalid_credentials', 'unknown key or wrong secret');
      return {
        accessToken: deps.tokens.issue(principal),
        tokenType: 'Bearer' as const,
        expiresIn: deps.tokens.ttlSeconds,
      };
    },
  );
};
