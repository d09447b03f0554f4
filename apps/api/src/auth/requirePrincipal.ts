import type { FastifyRequest } from 'fastify';
import { ApiProblem } from '../problem.js';
import type { Principal } from './principal.js';

/**
 * The caller that the authentication plugin (`http/authentication.ts`) established. Routes in the
 * authenticated scope always have one; the check turns a route registered in the wrong scope into
 * a 401 instead of a crash.
 */
export function requirePrincipal(req: FastifyRequest): Principal {
  if (!req.principal) throw new ApiProblem('unauthenticated', 'a bearer token is required');
  return req.principal;
}
