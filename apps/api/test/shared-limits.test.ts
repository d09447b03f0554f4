import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiConfig } from '@fjord/api';
import { newId } from '@fjord/contracts';
import { startTestApi, type TestApi } from '@fjord/test-support/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let t: TestApi;
const started: TestApi[] = [];

beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  for (const api of started) {
    await api.api.close();
    await api.prisma.$disconnect();
  }
  await t?.close();
});

/** Two API processes on one database and one Redis namespace, as behind a load balancer. */
async function twoApis(name: string, limits: ApiConfig['tokenExchangeLimits']): Promise<[TestApi, TestApi]> {
  const shared = { databaseUrl: t.databaseUrl, queuePrefix: `${t.queuePrefix}:${name}` };
  const a = await startTestApi({ tokenExchangeLimits: limits }, shared);
  const b = await startTestApi({ tokenExchangeLimits: limits }, shared);
  started.push(a, b);
  return [a, b];
}

const exchange = (api: TestApi, keyId: string, secret: string) =>
  api.anonymous.call('POST', '/v1/auth/token', { keyId, secret });

describe('token exchange limits shared through Redis', () => {
  it('the per-address limit holds across two API processes', async () => {
    const [a, b] = await twoApis('per-address', {
      perAddressPerMinute: 6,
      lockoutFailures: 100,
      failureWindowSeconds: 60,
      lockoutSeconds: 60,
    });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await exchange(i % 2 ? b : a, newId('apiKey'), 'fjs_guess')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);
    for (const api of [a, b]) {
      const r = await exchange(api, newId('apiKey'), 'fjs_guess');
      expect(r.status).toBe(429);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(r.body.code).toBe('rate_limited');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  });

  it('a key locked out by failures on either process gets 429 with Retry-After, right secret or not, until the lockout ends', async () => {
    const lockoutSeconds = 3;
    const [a, b] = await twoApis('lockout', {
      perAddressPerMinute: 1000,
      lockoutFailures: 3,
      failureWindowSeconds: 60,
      lockoutSeconds,
    });
    const victim = await t.tenant('lockout-victim');
    const bystander = await t.tenant('lockout-bystander');
    expect((await exchange(a, victim.keyId, 'fjs_wrong-1')).status).toBe(401);
    expect((await exchange(b, victim.keyId, 'fjs_wrong-2')).status).toBe(401);
    expect((await exchange(a, victim.keyId, 'fjs_wrong-3')).status).toBe(401);
    let retryAfter = 0;
    for (const api of [b, a]) {
      const r = await exchange(api, victim.keyId, victim.secret);
      expect(r.status, 'the right secret during the lockout').toBe(429);
      expect(r.body.code).toBe('rate_limited');
      retryAfter = Number(r.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(lockoutSeconds);
    }
    // Other keys are not affected.
    expect((await exchange(b, bystander.keyId, bystander.secret)).status).toBe(200);
    // Once Retry-After has passed, the right secret works again on both.
    await sleep(retryAfter * 1000 + 250);
    expect((await exchange(a, victim.keyId, victim.secret)).status).toBe(200);
    expect((await exchange(b, victim.keyId, victim.secret)).status).toBe(200);
    // The account's audit trail shows the failures and the refused attempts.
    const trail = (await victim.client.call('GET', '/v1/audit-events?action=ExchangeToken&limit=100')).body
      .items as { outcome: string; details: { reason?: string } }[];
    expect(trail.filter((e) => e.details.reason === 'wrong secret')).toHaveLength(3);
    expect(trail.filter((e) => e.details.reason === 'locked out')).toHaveLength(2);
  }, 60_000);
});
