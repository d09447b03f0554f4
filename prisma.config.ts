import { defineConfig } from 'prisma/config';

// Prisma's CLI downloads its native schema engine before every command; this machine cannot
// reach that download. Generation does not use the engine, so any executable satisfies the
// check. Migrations are applied by our own runner (docs/adr/0001-prisma-offline-migrations.md).
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= '/bin/true';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/fjord' },
});
