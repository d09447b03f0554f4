import { type AllowedNetworks, parseAllowedNetworks } from '@fjord/egress';
import { parseSigningKeys, type SigningKey } from './auth/tokens.js';
import type { TokenExchangeLimitSettings } from './http/tokenExchangeLimits.js';

export interface ApiConfig {
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly queuePrefix: string;
  /** Verification keys; the signing one is `jwtSigningKid` (default: the first). */
  readonly jwtKeys: readonly SigningKey[];
  readonly jwtSigningKid?: string;
  readonly tokenTtlSeconds: number;
  /** Longest lifetime a presented token may have (from `iat`, or from now), whoever signed it. */
  readonly tokenMaxLifetimeSeconds: number;
  readonly ratePerSecond: number;
  readonly burst: number;
  /** Token exchange limits, shared by every API process through Redis. */
  readonly tokenExchangeLimits: TokenExchangeLimitSettings;
  /** Shared with workers: derives each instance's control-plane SCRAM password. */
  readonly adminSecret: string;
  readonly logLevel: string;
  /** The control plane's Prometheus (monitoring queries); unset: monitoring routes answer 503. */
  readonly prometheusUrl?: string;
  /** Prometheus's scrape interval, which rate windows are sized from. */
  readonly scrapeIntervalSeconds?: number;
  /** Token Prometheus and Alertmanager present on `/internal/*`. */
  readonly internalToken?: string;
  /** The web console's built files (default: apps/console/dist of this checkout). */
  readonly consoleDir?: string;
  /** `FJORD_WEBHOOK_ALLOWED_NETWORKS`: non-public networks alarm webhooks may point at. */
  readonly webhookAllowedNetworks?: AllowedNetworks;
  /** `FJORD_CONNECTOR_ALLOWED_NETWORKS`: non-public networks connectors' endpoints may be in. */
  readonly connectorAllowedNetworks?: AllowedNetworks;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`${name} must be set`);
  return v;
}

export function apiConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return {
    host: env.FJORD_API_HOST ?? '127.0.0.1',
    port: Number(env.FJORD_API_PORT ?? 8080),
    databaseUrl: env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/fjord',
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    queuePrefix: env.FJORD_QUEUE_PREFIX ?? 'fjord',
    jwtKeys: parseSigningKeys(required(env, 'FJORD_JWT_KEYS')),
    ...(env.FJORD_JWT_SIGNING_KID ? { jwtSigningKid: env.FJORD_JWT_SIGNING_KID } : {}),
    tokenTtlSeconds: Number(env.FJORD_TOKEN_TTL_SECONDS ?? 900),
    tokenMaxLifetimeSeconds: Number(env.FJORD_TOKEN_MAX_LIFETIME_SECONDS ?? 3600),
    ratePerSecond: Number(env.FJORD_RATE_LIMIT_RPS ?? 100),
    burst: Number(env.FJORD_RATE_LIMIT_BURST ?? 200),
    tokenExchangeLimits: {
      perAddressPerMinute: Number(env.FJORD_AUTH_RATE_LIMIT_PER_MINUTE ?? 60),
      lockoutFailures: Number(env.FJORD_AUTH_LOCKOUT_FAILURES ?? 5),
      failureWindowSeconds: Number(env.FJORD_AUTH_FAILURE_WINDOW_SECONDS ?? 300),
      lockoutSeconds: Number(env.FJORD_AUTH_LOCKOUT_SECONDS ?? 900),
    },
    adminSecret: required(env, 'FJORD_ADMIN_SECRET'),
    logLevel: env.FJORD_LOG_LEVEL ?? 'info',
    ...(env.FJORD_PROMETHEUS_URL ? { prometheusUrl: env.FJORD_PROMETHEUS_URL } : {}),
    scrapeIntervalSeconds: Number(env.FJORD_SCRAPE_INTERVAL_SECONDS ?? 15),
    ...(env.FJORD_INTERNAL_TOKEN ? { internalToken: env.FJORD_INTERNAL_TOKEN } : {}),
    webhookAllowedNetworks: parseAllowedNetworks(env.FJORD_WEBHOOK_ALLOWED_NETWORKS),
    connectorAllowedNetworks: parseAllowedNetworks(env.FJORD_CONNECTOR_ALLOWED_NETWORKS),
  };
}
