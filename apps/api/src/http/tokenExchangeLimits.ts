import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { ApiProblem } from '../problem.js';

export interface TokenExchangeLimitSettings {
  /** Token requests per client address per minute, counted across every API process. */
  readonly perAddressPerMinute: number;
  /** Failed exchanges of one key id within `failureWindowSeconds` that lock the key out… */
  readonly lockoutFailures: number;
  readonly failureWindowSeconds: number;
  /** …for this long, even with the right secret. */
  readonly lockoutSeconds: number;
}

export interface SharedLimitStore {
  readonly redis: Redis;
  /** Prefix of the Redis keys, so that deployments (and tests) sharing a Redis do not share budgets. */
  readonly keyPrefix: string;
}

/**
 * Brute-force lockout per key id (the token request's `keyId`), kept in Redis so every API process
 * sees the same state. Unknown key ids are counted alike, so a lockout reveals nothing about them.
 */
export interface KeyLockout {
  /** Seconds until the request's key is no longer locked out; 0 when it is not. */
  lockedForSeconds(req: FastifyRequest): Promise<number>;
  /** Counts a failed exchange; the one that reaches the limit starts the lockout. */
  recordFailure(req: FastifyRequest): Promise<void>;
}

/**
 * @fastify/rate-limit with its Redis store on the scope it is given (the public one, whose only
 * route is the token exchange): a per-address limit on every route of the scope, and two limiters
 * made with `createRateLimit` for the lockout (failures counted only when they happen; a lock key
 * whose presence refuses the key).
 */
export async function tokenExchangeLimits(
  scope: FastifyInstance,
  store: SharedLimitStore,
  settings: TokenExchangeLimitSettings,
): Promise<KeyLockout> {
  await scope.register(fastifyRateLimit, {
    global: true,
    redis: store.redis,
    nameSpace: `${store.keyPrefix}:token-exchange:`,
    max: settings.perAddressPerMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => `address:${req.ip}`,
    enableDraftSpec: true,
    errorResponseBuilder: (_req, ctx) =>
      new ApiProblem('rate_limited', `too many token requests from this address; retry in ${ctx.after}`),
  });
  const keyIdOf = (req: FastifyRequest) => (req.body as { keyId: string }).keyId;
  const failures = scope.createRateLimit({
    max: settings.lockoutFailures,
    timeWindow: settings.failureWindowSeconds * 1000,
    keyGenerator: (req) => `failures:${keyIdOf(req)}`,
  });
  const lock = scope.createRateLimit({
    max: 0,
    timeWindow: settings.lockoutSeconds * 1000,
    keyGenerator: (req) => `lock:${keyIdOf(req)}`,
  });
  return {
    async lockedForSeconds(req) {
      const r = await lock(req, { increment: false });
      return !r.isAllowed && r.isExceeded ? Math.max(1, r.ttlInSeconds) : 0;
    },
    async recordFailure(req) {
      const r = await failures(req);
      if (!r.isAllowed && r.remaining === 0) await lock(req);
    },
  };
}
