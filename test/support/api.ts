import { randomBytes } from 'node:crypto';
import { type ApiConfig, hashSecret, newSecret, type RunningApi, startApi } from '@fjord/api';
import { newId } from '@fjord/contracts';
import { createPrismaClient, type PrismaClient } from '@fjord/db';
import { createTestDatabase } from './database.js';
import { REDIS_URL, testQueuePrefix } from './redis.js';

export interface Reply<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** A thin REST client: what a script or the console does, nothing more. */
export class RestClient {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  withToken(token: string): RestClient {
    return new RestClient(this.baseUrl, token);
  }

  // biome-ignore lint/suspicious/noExplicitAny: tests read bodies of many shapes
  async call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  async login(keyId: string, secret: string): Promise<RestClient> {
    const r = await this.call<{ accessToken: string }>('POST', '/v1/auth/token', { keyId, secret });
    if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
    return this.withToken(r.body.accessToken);
  }
}

export interface TestApi {
  readonly api: RunningApi;
  readonly config: ApiConfig;
  readonly prisma: PrismaClient;
  readonly anonymous: RestClient;
  readonly databaseUrl: string;
  readonly queuePrefix: string;
  /** A new operator key, logged in. */
  operator(): Promise<RestClient>;
  /** A new root account with a key, logged in. */
  tenant(name: string): Promise<{ client: RestClient; accountId: string; keyId: string; secret: string }>;
  close(): Promise<void>;
}

export const TEST_ADMIN_SECRET = 'test-admin-secret-0123456789abcdef';

export async function startTestApi(
  overrides: Partial<ApiConfig> = {},
  shared?: { databaseUrl: string; queuePrefix: string },
): Promise<TestApi> {
  const db = shared ? undefined : await createTestDatabase();
  const queue = shared ? undefined : testQueuePrefix();
  const databaseUrl = shared?.databaseUrl ?? db!.url;
  const queuePrefix = shared?.queuePrefix ?? queue!.prefix;
  const config: ApiConfig = {
    host: '127.0.0.1',
    port: 0,
    databaseUrl,
    redisUrl: REDIS_URL,
    queuePrefix,
    jwtKeys: [{ kid: 'k1', secret: randomBytes(32).toString('hex') }],
    tokenTtlSeconds: 900,
    tokenMaxLifetimeSeconds: 3600,
    ratePerSecond: 1000,
    burst: 2000,
    // Every test logs in from 127.0.0.1; tests of these limits set their own.
    tokenExchangeLimits: {
      perAddressPerMinute: 100_000,
      lockoutFailures: 50,
      failureWindowSeconds: 60,
      lockoutSeconds: 60,
    },
    adminSecret: TEST_ADMIN_SECRET,
    logLevel: 'warn',
    ...overrides,
  };
  const api = await startApi(config, { logger: false });
  const prisma = createPrismaClient(databaseUrl);
  const anonymous = new RestClient(api.url);
  const operator = async () => {
    const secret = newSecret();
    const id = newId('operatorKey');
    await prisma.operatorKey.create({ data: { id, name: 'test', secretHash: hashSecret(secret) } });
    return anonymous.login(id, secret);
  };
  let op: RestClient | undefined;
  return {
    api,
    config,
    prisma,
    anonymous,
    databaseUrl,
    queuePrefix,
    operator,
    async tenant(name: string) {
      op ??= await operator();
      const acc = await op.call('POST', '/v1/accounts', { name });
      if (acc.status !== 201) throw new Error(`account: ${acc.status} ${JSON.stringify(acc.body)}`);
      const key = await op.call('POST', `/v1/accounts/${acc.body.id}/api-keys`, {});
      return {
        client: await anonymous.login(key.body.id, key.body.secret),
        accountId: acc.body.id,
        keyId: key.body.id,
        secret: key.body.secret,
      };
    },
    async close() {
      await api.close();
      await prisma.$disconnect();
      await db?.drop();
      await queue?.cleanup();
    },
  };
}
