import { ApiProblem } from '../problem.js';
import type { SharedLimitStore } from './tokenExchangeLimits.js';

/**
 * The budget of secret checks (is this the user's password, are these the connector's secrets) per
 * secret, shared by every API process through Redis: guessing at one secret gets a few tries a
 * minute however many processes or API keys it spreads over.
 */
export interface SecretCheckLimit {
  /** Spends one check of `secret`'s budget; 429 with Retry-After when it is gone. */
  spend(secret: string): Promise<void>;
}

export const SECRET_CHECKS_PER_MINUTE = 20;

export function secretCheckLimit(
  store: SharedLimitStore,
  perMinute = SECRET_CHECKS_PER_MINUTE,
): SecretCheckLimit {
  return {
    async spend(secret) {
      const key = `${store.keyPrefix}:secret-check:${secret}`;
      // A fixed window: the first check of a minute starts it.
      const r = await store.redis.multi().set(key, 0, 'EX', 60, 'NX').incr(key).pttl(key).exec();
      const count = Number(r?.[1]?.[1] ?? 0);
      const ttlMs = Number(r?.[2]?.[1] ?? 60_000);
      if (count > perMinute)
        throw new ApiProblem('rate_limited', `at most ${perMinute} checks of one secret a minute`, {
          headers: { 'retry-after': String(Math.max(1, Math.ceil(ttlMs / 1000))) },
        });
    },
  };
}
