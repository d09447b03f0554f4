import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';
import { DEFAULT_DATABASE_URL } from './migrate.js';

/** A Prisma 7 client over node-postgres (no native query engine needed). */
export function createPrismaClient(
  databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
}

export type { PrismaClient };
