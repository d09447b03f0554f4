/**
 * The SQL the PostgreSQL sink runs (pure). Rows travel as one JSON array parameter read by
 * `json_populate_recordset`, so PostgreSQL converts each field to its column's type (and refuses a
 * value that does not fit, naming it) and a batch is one statement whatever its size.
 */
import pg from 'pg';

export const OFFSETS_TABLE = 'fjord_connect_offsets';

const ident = (name: string) => pg.escapeIdentifier(name);
const qualified = (schema: string, table: string) => `${ident(schema)}.${ident(table)}`;

export interface Statement {
  readonly text: string;
  readonly values: unknown[];
}

/** The table of committed offsets in the target database: the sink's only record of progress. */
export function createOffsetsTable(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(schema, OFFSETS_TABLE)} (
  connector text NOT NULL,
  topic text NOT NULL,
  partition integer NOT NULL,
  next_offset bigint NOT NULL,
  PRIMARY KEY (connector, topic, partition)
)`;
}

export function readOffsets(schema: string, connector: string): Statement {
  return {
    text: `SELECT topic, partition, next_offset FROM ${qualified(schema, OFFSETS_TABLE)} WHERE connector = $1`,
    values: [connector],
  };
}

/**
 * Moves a partition's offset from `expected` (null: none stored yet) to `next`; it changes one row
 * only if nobody moved it meanwhile, which fences a task that lost its partition to another.
 */
export function advanceOffset(
  schema: string,
  connector: string,
  topic: string,
  partition: number,
  expected: bigint | null,
  next: bigint,
): Statement {
  const t = qualified(schema, OFFSETS_TABLE);
  return {
    text: `INSERT INTO ${t} AS o (connector, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
ON CONFLICT (connector, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset
WHERE o.next_offset = $5`,
    values: [connector, topic, partition, next.toString(), expected === null ? null : expected.toString()],
  };
}

export function tableExists(schema: string, table: string): Statement {
  return { text: 'SELECT to_regclass($1) IS NOT NULL AS present', values: [qualified(schema, table)] };
}

export function createTable(
  schema: string,
  table: string,
  keyColumn: string,
  upsert: boolean,
  columns: readonly { name: string; type: string }[],
): string {
  const cols = [
    `${ident(keyColumn)} text${upsert ? ' PRIMARY KEY' : ''}`,
    ...columns.map((c) => `${ident(c.name)} ${c.type}`),
  ];
  return `CREATE TABLE IF NOT EXISTS ${qualified(schema, table)} (${cols.join(', ')})`;
}

/**
 * Inserts `rows` (JSON objects) into the columns named; in upsert mode a row whose key is there
 * replaces those columns. The rows must have distinct keys in upsert mode (see lastPerKey).
 */
export function writeRows(
  schema: string,
  table: string,
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
  upsertKey: string | null,
): Statement {
  const t = qualified(schema, table);
  const cols = columns.map(ident).join(', ');
  let text = `INSERT INTO ${t} (${cols}) SELECT ${cols} FROM json_populate_recordset(NULL::${t}, $1::json)`;
  if (upsertKey !== null) {
    const rest = columns.filter((c) => c !== upsertKey);
    text +=
      rest.length === 0
        ? ` ON CONFLICT (${ident(upsertKey)}) DO NOTHING`
        : ` ON CONFLICT (${ident(upsertKey)}) DO UPDATE SET ${rest.map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`).join(', ')}`;
  }
  return { text, values: [JSON.stringify(rows)] };
}

export function deleteRows(
  schema: string,
  table: string,
  keyColumn: string,
  keys: readonly string[],
): Statement {
  return {
    text: `DELETE FROM ${qualified(schema, table)} WHERE ${ident(keyColumn)} = ANY($1::text[])`,
    values: [keys],
  };
}

/**
 * Errors of one row's data (a value its column cannot take, a constraint it breaks, a field with no
 * column): the record is at fault, not the database, so it goes to the dead-letter topic.
 */
export function isRowError(sqlState: string | undefined): boolean {
  if (!sqlState) return false;
  return (
    sqlState.startsWith('22') || sqlState.startsWith('23') || sqlState === '42703' || sqlState === '42804'
  );
}
