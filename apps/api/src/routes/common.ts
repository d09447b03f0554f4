import { Problem } from '@fjord/contracts';
import type { Access } from '../access/access.js';
import type { ApiDeps } from '../deps.js';

/**
 * Everything a route plugin may be given. Each plugin declares the part it uses as its options
 * (`Pick<RouteDeps, …>`), and `routes/index.ts` passes exactly that.
 */
export interface RouteDeps
  extends Omit<ApiDeps, 'logger' | 'rateLimit' | 'sharedLimits' | 'tokenExchangeLimits'> {
  readonly access: Access;
}

/** Statuses every authenticated route can answer, plus the route's own; all are problem+json. */
export function problems(...extra: number[]): Record<number, typeof Problem> {
  const out: Record<number, typeof Problem> = {};
  for (const s of [400, 401, 403, 404, 429, 503, ...extra]) out[s] = Problem;
  return out;
}
