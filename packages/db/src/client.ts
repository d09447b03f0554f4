import { PrismaPg } from '@prisma/adapter-pg';
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
    adapter: new PrismaPg({
      connectionString: databaseUrl,
      ...(options.maxConnections ? { max: options.maxConnections } : {}),
      ...(options.connectTimeoutMs ? { connectionTimeoutMillis: options.connectTimeoutMs } : {}),
    }),
  });
}

export type {
  Account,
  ApiKey,
  AuditEvent,
  BrokerPlacement,
  CollaboratorGrant,
  Instance,
  Operation,
  OperatorKey,
  Policy,
  SubAccount,
  Zone,
} from './generated/prisma/client.js';
export { Prisma } from './generated/prisma/client.js';
export type { PrismaClient };
