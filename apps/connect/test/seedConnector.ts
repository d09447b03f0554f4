import type pg from 'pg';

/**
 * An account, an instance and connector `con-1` of `type` with `tasks` task rows, straight into
 * the tables (the connect worker's view of what the API created).
 */
export async function seedConnector(pool: pg.Pool, type: string, tasks: number): Promise<void> {
  await pool.query(`INSERT INTO "Account" ("id", "name") VALUES ('acc-1', 'a')`);
  await pool.query(
    `INSERT INTO "Instance" ("id", "accountId", "name", "zones", "brokerCount", "bandwidthMBps", "diskGiB",
       "partitionLimit", "kafkaVersion", "updatedAt")
     VALUES ('ins-1', 'acc-1', 'i', '{az-1}', 1, 10, 10, 100, '3.8', now())`,
  );
  await pool.query(
    `INSERT INTO "Connector" ("id", "instanceId", "accountId", "name", "type", "config", "sealedSecrets",
       "secretNames", "tasksMax", "updatedAt")
     VALUES ('con-1', 'ins-1', 'acc-1', 'c', $1, '{}', 'x', '{}', $2, now())`,
    [type, tasks],
  );
  await pool.query(
    `INSERT INTO "ConnectorTask" ("connectorId", "task", "updatedAt")
     SELECT 'con-1', k, now() FROM generate_series(0, $1::int - 1) AS k`,
    [tasks],
  );
}
