import { resolve } from 'node:path';
import { createPgPool, createPrismaClient } from '@fjord/db';
import { PrometheusClient } from '@fjord/monitoring';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { TokenService } from './auth/tokens.js';
import type { ApiConfig } from './config.js';
import { KafkaClusterAdmin } from './services/clusterAdmin.js';
import { MetricsReader } from './services/metricsQuery.js';
import { BullOperationQueue } from './services/operationQueue.js';

/** The console's build in this checkout (from src/ or dist/ alike: both sit one level below the app). */
const CONSOLE_DIR = resolve(import.meta.dirname, '../../console/dist');

export interface RunningApi {
  readonly app: FastifyInstance;
  readonly url: string;
  close(): Promise<void>;
}

/** Wires the API to PostgreSQL, Redis and the clusters, and listens. */
export async function startApi(config: ApiConfig, options: { logger?: false } = {}): Promise<RunningApi> {
  const prisma = createPrismaClient(config.databaseUrl, { connectTimeoutMs: 2000, maxConnections: 20 });
  const pool = createPgPool(config.databaseUrl, { connectTimeoutMs: 2000, maxConnections: 10 });
  // No offline queue and one retry: with Redis down, calls fail at once (503) instead of waiting.
  const redis = new Redis(config.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
  });
  redis.on('error', () => {});
  const queue = new BullOperationQueue(redis, config.queuePrefix);
  const cluster = new KafkaClusterAdmin(config.adminSecret);
  const app = await buildApp({
    prisma,
    pool,
    queue,
    cluster,
    adminSecret: config.adminSecret,
    ...(config.prometheusUrl
      ? {
          metrics: new MetricsReader(
            new PrometheusClient(config.prometheusUrl),
            config.scrapeIntervalSeconds ?? 15,
          ),
        }
      : {}),
    ...(config.internalToken ? { internalToken: config.internalToken } : {}),
    tokens: new TokenService({
      keys: config.jwtKeys,
      ...(config.jwtSigningKid ? { signingKid: config.jwtSigningKid } : {}),
      issuer: 'fjord',
      audience: 'fjord-api',
      ttlSeconds: config.tokenTtlSeconds,
      maxLifetimeSeconds: config.tokenMaxLifetimeSeconds,
    }),
    rateLimit: { ratePerSecond: config.ratePerSecond, burst: config.burst },
    sharedLimits: { redis, keyPrefix: config.queuePrefix },
    tokenExchangeLimits: config.tokenExchangeLimits,
    consoleDir: config.consoleDir ?? CONSOLE_DIR,
    ...(config.webhookAllowedNetworks ? { webhookAllowedNetworks: config.webhookAllowedNetworks } : {}),
    ...(config.connectorAllowedNetworks ? { connectorAllowedNetworks: config.connectorAllowedNetworks } : {}),
    logger: options.logger === false ? false : { level: config.logLevel },
  });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  return {
    app,
    url: `http://${config.host}:${port}`,
    async close() {
      // Stop taking requests, let in-flight ones finish, then release connections.
      await app.close();
      await cluster.close();
      await queue.close().catch(() => {});
      redis.disconnect();
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
