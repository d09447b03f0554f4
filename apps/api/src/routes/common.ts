import { Problem } from '@fjord/contracts';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Access } from '../access/access.js';
import type { ApiDeps } from '../app.js';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface RouteDeps extends ApiDeps {
  readonly access: Access;
}

/** Statuses every authenticated route can answer, plus the route's own; all are problem+json. */
export function problems(...extra: number[]): Record<number, typeof Problem> {
  const out: Record<number, typeof Problem> = {};
  for (const s of [400, 401, 403, 404, 429, 503, ...extra]) out[s] = Problem;
  return out;
}
