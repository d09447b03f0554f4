import { MigrationError, migrate } from '../migrate.js';

try {
  const { applied, alreadyApplied } = await migrate();
  console.log(
    `migrations: ${applied.length} applied${applied.length ? ` (${applied.join(', ')})` : ''}, ${alreadyApplied.length} already in place`,
  );
} catch (e) {
  console.error(e instanceof MigrationError ? `migrate: ${e.message}` : e);
  process.exit(1);
}
