import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiProblem } from '../problem.js';
import type { TokenBuckets } from './rateLimiter.js';

export interface RateLimitOptions {
  /** Shared by every scope, so one caller has one budget. */
  readonly buckets: TokenBuckets;
  /** Whose budget a request spends (an address for public routes, an account otherwise). */
  readonly keyOf: (req: FastifyRequest) => string;
}

/** Spends one token of `key`'s budget, sets the RateLimit headers, 429 when the budget is gone. */
export function spendToken(buckets: TokenBuckets, key: string, reply: FastifyReply): void {
  const d = buckets.take(key, Date.now());
  reply.header('ratelimit-limit', d.limit);
  reply.header('ratelimit-remaining', d.remaining);
  reply.header('ratelimit-reset', d.resetSeconds);
  if (!d.allowed)
    throw new ApiProblem('rate_limited', `rate limit of ${buckets.ratePerSecond}/s exceeded`, {
      headers: { 'retry-after': String(d.retryAfterSeconds) },
    });
}

/** Per-caller rate limit for the routes registered after it in the same scope. */
export const rateLimit = fp<RateLimitOptions>(
  async (app, { buckets, keyOf }) => {
    app.addHook('onRequest', async (req, reply) => {
      spendToken(buckets, keyOf(req), reply);
    });
  },
  { name: 'fjord-rate-limit' },
);
