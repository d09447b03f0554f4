import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client.js';
import { DEFAULT_DATABASE_URL } from './migrate.js';

export interface PrismaClientOptions {
  /** Pool size (node-postgres `max`). */
  readonly maxConnections?: number;
  /** Give up connecting after this long, so callers fail fast when PostgreSQL is down. */
  readonly connectTimeoutMs?: number;
}

/** A Prisma 7 client over node-postgres (no native query engine needed). */
export function createPrismaClient(
  databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
  options: PrismaClientOptions = {},
): PrismaClient {
  return new PrismaClient({
    // Prisma's defaults (2 s to start, 5 s to finish an interactive transaction) guess speed: on a
    // busy host, transactions queued on one row's lock (an instance's operations) outlive them.
    transactionOptions: { maxWait: 30_000, timeout: 60_000 },
    adapter: new PrismaPg({
      connectionString: databaseUrl,
      ...(options.maxConnections ? { max: options.maxConnections } : {}),
      ...(options.connectTimeoutMs ? { connectionTimeoutMillis: options.connectTimeoutMs } : {}),
    }),
  });
}

export type {
  Account,
  AlarmEvent,
  AlarmNotification,
  AlarmPolicy,
  ApiKey,
  AuditEvent,
  AutoscalingPolicy,
  BrokerPlacement,
  CollaboratorGrant,
  Connector,
  ConnectorOffset,
  ConnectorTask,
  Host,
  Instance,
  NotificationChannel,
  Operation,
  OperatorKey,
  Policy,
  SubAccount,
  Zone,
} from './generated/prisma/client.js';
export { Prisma } from './generated/prisma/client.js';
export type { PrismaClient };

/**
 * A plain node-postgres pool for the few hot read paths where Prisma's per-query overhead
 * dominates (a single indexed lookup costs several times more CPU through the client).
 */
export function createPgPool(
  databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
  options: PrismaClientOptions = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2000,
  });
  // Errors of idle clients (server restarts) surface on the next query; they must not crash us.
  pool.on('error', () => {});
  return pool;
}
