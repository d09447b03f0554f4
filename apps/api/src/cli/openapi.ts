#!/usr/bin/env node
/**
 * Prints the API's OpenAPI document (what `GET /openapi.json` serves) without a database, Redis or
 * clusters: the document comes from the route schemas alone, so the app is built on clients that
 * never connect (nothing is called while routes register). Used at build time to generate the
 * CLI's typed client. Usage: openapi.js > openapi.json
 */
import { createPgPool, createPrismaClient } from '@fjord/db';
import { Redis } from 'ioredis';
import { buildApp } from '../app.js';
import { TokenService } from '../auth/tokens.js';
import { KafkaClusterAdmin } from '../services/clusterAdmin.js';
import { BullOperationQueue } from '../services/operationQueue.js';

const url = 'postgresql://unused@127.0.0.1:1/unused';
const redis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false });
redis.on('error', () => {});
const app = await buildApp({
  prisma: createPrismaClient(url, { connectTimeoutMs: 1, maxConnections: 1 }),
  pool: createPgPool(url, { connectTimeoutMs: 1, maxConnections: 1 }),
  queue: new BullOperationQueue(redis, 'unused'),
  cluster: new KafkaClusterAdmin('unused'),
  adminSecret: 'unused',
  tokens: new TokenService({
    keys: [{ kid: 'unused', secret: 'unused-unused-unused-unused-unused!' }],
    issuer: 'fjord',
    audience: 'fjord-api',
    ttlSeconds: 60,
    maxLifetimeSeconds: 60,
  }),
  rateLimit: { ratePerSecond: 1, burst: 1 },
  sharedLimits: { redis, keyPrefix: 'unused' },
  tokenExchangeLimits: {
    perAddressPerMinute: 1,
    lockoutFailures: 1,
    failureWindowSeconds: 1,
    lockoutSeconds: 1,
  },
  logger: false,
});
await app.ready();
process.stdout.write(`${JSON.stringify(app.swagger(), null, 2)}\n`);
await app.close();
redis.disconnect();
process.exit(0);
