import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Principal } from '../auth/principal.js';
import { InvalidToken, type TokenService } from '../auth/tokens.js';
import { ApiProblem } from '../problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication plugin; read it through `requirePrincipal`. */
    principal: Principal | null;
  }
}

export interface AuthenticationOptions {
  readonly tokens: TokenService;
}

/** Verifies the request's bearer token and records its principal on the request; 401 otherwise. */
export function authenticate(tokens: TokenService, req: FastifyRequest): Principal {
  const header = req.headers.authorization;
  const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
  if (!token) throw new ApiProblem('unauthenticated', 'a bearer token is required (POST /v1/auth/token)');
  try {
    req.principal = tokens.verify(token);
  } catch (e) {
    if (e instanceof InvalidToken) throw new ApiProblem('unauthenticated', `invalid token: ${e.message}`);
    throw e;
  }
  return req.principal;
}

/**
 * Authentication for every route registered after it in the same scope (it is wrapped with
 * fastify-plugin so that its hook applies to its siblings, not only to itself). Public routes are
 * registered in a scope without it.
 */
export const authentication = fp<AuthenticationOptions>(
  async (app, { tokens }) => {
    if (!app.hasRequestDecorator('principal')) app.decorateRequest('principal', null);
    app.addHook('onRequest', async (req) => {
      authenticate(tokens, req);
    });
  },
  { name: 'fjord-authentication' },
);
