import { isIP } from 'node:net';
import { PostgresSinkConfig, PostgresSinkSecrets } from '@fjord/contracts';
import { resolveAllowed } from '@fjord/egress';
import { unseal } from '@fjord/fleet';
import pg from 'pg';
import { abortableSleep } from '../abortableSleep.js';
import { DeadLetterQueue } from '../deadLetter/DeadLetterQueue.js';
import { deadLetterRecord, failureReason } from '../deadLetter/deadLetterRecord.js';
import { checkDialTargets } from '../dialTargets.js';
import { type FetchedPartition, KafkaSource } from '../KafkaSource.js';
import { instanceEndpoint } from '../kafkaEndpoint.js';
import { LeaseLost } from '../LeaseStore.js';
import type { SinkRecord } from '../s3/objectLayout.js';
import { startPosition } from '../startPosition.js';
import type { TaskContext } from '../TaskContext.js';
import { assignedPartitions } from '../taskAssignment.js';
import {
  inferredColumns,
  jsonRows,
  lastPerKey,
  type RecordFailure,
  type RowOp,
  type RowWrite,
  rowOpOf,
  writtenColumns,
} from './recordRows.js';
import {
  advanceOffset,
  createOffsetsTable,
  createTable,
  deleteRows,
  isRowError,
  readOffsets,
  type Statement,
  tableExists,
  writeRows,
} from './sinkStatements.js';

const FETCH_WAIT_MS = 500;
const NO_PARTITIONS_WAIT_MS = 2000;
/** pg's DatabaseError carries the SQLSTATE. */
const sqlStateOf = (e: unknown) => (e as { code?: string }).code;

interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** What the target database holds as this partition's next offset (null: nothing yet). */
  stored: bigint | null;
  position: bigint;
  /** Started from a reset (PUT …/offsets) that the control plane still marks pending. */
  resetPending: boolean;
}

/**
 * Whether a fetch of the partition has something to commit: records or a jump (both move the
 * position), or a position the table does not hold yet (a reset, which may land right where the
 * table already is once its records are written again: those rows still go in).
 */
const hasWork = (s: PartitionState, nextOffset: bigint) =>
  nextOffset !== s.position || nextOffset !== s.stored;

/** A row the database refused: its record, and why. */
class RowRefused extends Error {
  constructor(readonly failure: RecordFailure) {
    super(failure.message);
  }
}

/**
 * The PostgreSQL sink: each fetched batch is written to the table in one transaction of the target
 * database together with the partitions' next offsets in `fjord_connect_offsets`, and a task resumes
 * from those offsets, so a crash anywhere neither loses nor repeats a row (docs/adr/0022).
 */
export async function runPostgresSink(ctx: TaskContext): Promise<void> {
  const { connector, lease, store, signal } = ctx;
  const config = PostgresSinkConfig.parse(connector.config);
  const secrets = PostgresSinkSecrets.parse(JSON.parse(unseal(connector.sealedSecrets, ctx.adminSecret)));
  const { schema, table, keyColumn } = config;
  const upsert = config.mode === 'upsert';
  const where = `${config.connection.host}:${config.connection.port}/${config.connection.database}`;
  await checkDialTargets('postgres-sink', config, ctx.allowedNetworks);
  // pg resolves names itself: it is given the address checked here instead, so DNS cannot move it
  // elsewhere in between; TLS still verifies the certificate against the configured name.
  const [address] = await resolveAllowed(config.connection.host, ctx.allowedNetworks).catch((e: Error) => {
    throw new Error(`cannot reach PostgreSQL at ${where}: ${e.message}`, { cause: e });
  });
  const db = new pg.Client({
    host: address!.address,
    port: config.connection.port,
    database: config.connection.database,
    user: config.connection.user,
    ...(secrets.password !== undefined ? { password: secrets.password } : {}),
    // An IP literal is no TLS server name (RFC 6066): then the certificate is checked against the address.
    ssl: config.connection.ssl
      ? isIP(config.connection.host)
        ? true
        : { servername: config.connection.host }
      : false,
    connectionTimeoutMillis: 5000,
    application_name: `fjord-connect-${connector.id}-${lease.task}`,
  });
  db.on('error', () => {}); // a dropped connection fails the next query, which fails the task
  const endpoint = await instanceEndpoint(store, connector.instanceId, ctx.adminSecret);
  const clientId = `fjord-connect-${connector.id}-${lease.task}`;
  const source = new KafkaSource(endpoint, clientId);
  const { tolerance, deadLetterTopic } = config.errors;
  const dlq = deadLetterTopic ? new DeadLetterQueue(endpoint, clientId, deadLetterTopic) : null;
  const labels = { instance: connector.instanceId, connector: connector.id, task: String(lease.task) };
  const run = (s: Statement) => db.query(s.text, s.values);
  try {
    try {
      await db.connect();
      await db.query(createOffsetsTable(schema));
    } catch (e) {
      // Two tasks creating the offsets table at once: one loses the race on the catalog, harmlessly.
      if (sqlStateOf(e) !== '23505' && sqlStateOf(e) !== '42P07')
        throw new Error(`cannot reach PostgreSQL at ${where}: ${(e as Error).message}`);
    }
    await dlq?.check();

    let mine: { topic: string; partition: number }[] = [];
    while (!signal.aborted) {
      mine = assignedPartitions(await source.partitions(config.topics), connector.tasksMax, lease.task);
      if (mine.length > 0) break;
      ctx.healthy();
      await abortableSleep(NO_PARTITIONS_WAIT_MS, signal);
    }
    if (signal.aborted) return;

    const stored = new Map(
      (await run(readOffsets(schema, connector.id))).rows.map(
        (r: { topic: string; partition: number; next_offset: string }) => [
          `${r.topic}/${r.partition}`,
          BigInt(r.next_offset),
        ],
      ),
    );
    const progress = new Map(
      (await store.progress(connector.id)).map((p) => [`${p.topic}/${p.partition}`, p]),
    );
    const states: PartitionState[] = [];
    for (const m of mine) {
      const k = `${m.topic}/${m.partition}`;
      const at = stored.get(k) ?? null;
      // The table's offset wins over the control plane's copy, except over a pending reset.
      const start = startPosition(progress.get(k), at ?? undefined);
      if (start.from === 'reset')
        ctx.log.info(
          { topic: m.topic, partition: m.partition, offset: start.offset, stored: at },
          'sink starts from reset offsets',
        );
      states.push({
        topic: m.topic,
        partition: m.partition,
        stored: at,
        position: start.offset ?? (await source.earliest(m.topic, [m.partition]))[0] ?? 0n,
        resetPending: start.from === 'reset',
      });
    }
    const stateOf = new Map(states.map((s) => [`${s.topic}/${s.partition}`, s]));
    let tableKnown = false;
    ctx.healthy();

    /** Whether the table is there, after creating it from `writes` if missing and asked to. */
    const ensureTable = async (writes: readonly RowWrite[]): Promise<boolean> => {
      if (tableKnown) return true;
      const present = (await run(tableExists(schema, table))).rows[0]?.present === true;
      if (!present) {
        if (!config.autoCreate)
          throw new Error(`table ${schema}.${table} does not exist (autoCreate is off)`);
        if (writes.length === 0) return false; // nothing to create it from, nothing to delete from
        await db.query(createTable(schema, table, keyColumn, upsert, inferredColumns(writes, keyColumn)));
      }
      tableKnown = true;
      return true;
    };

    const statementsOf = (ops: readonly RowOp[]): Statement[] => {
      const out: Statement[] = [];
      const dels = ops.filter((o) => o.kind === 'delete').map((o) => o.key);
      if (dels.length > 0) out.push(deleteRows(schema, table, keyColumn, dels));
      const rows = jsonRows(
        ops.filter((o): o is RowWrite => o.kind === 'write'),
        keyColumn,
      );
      if (rows.length > 0)
        out.push(writeRows(schema, table, writtenColumns(rows), rows, upsert ? keyColumn : null));
      return out;
    };

    /** One row behind a savepoint: a row the database refuses is undone alone and thrown as RowRefused. */
    const applyRow = async (op: RowOp) => {
      await db.query('SAVEPOINT fjord_row');
      try {
        for (const st of statementsOf([op])) await run(st);
        await db.query('RELEASE SAVEPOINT fjord_row');
      } catch (e) {
        if (!isRowError(sqlStateOf(e))) throw e;
        await db.query('ROLLBACK TO SAVEPOINT fjord_row');
        throw new RowRefused({
          kind: 'failure',
          record: op.record,
          stage: 'TASK_PUT',
          errorClass: 'DatabaseError',
          message: `PostgreSQL refused the row: ${(e as Error).message} (SQLSTATE ${sqlStateOf(e)})`,
        });
      }
    };

    /**
     * One transaction: rows, dead letters sent before it commits (a crash after sending them may
     * send them again: the dead-letter topic is at least once), then every advanced offset.
     */
    const commitBatch = async (fetched: readonly FetchedPartition[], perRow: boolean) => {
      const records: SinkRecord[] = fetched.flatMap((f) => f.records);
      const failures: RecordFailure[] = [];
      const ops: RowOp[] = [];
      for (const r of records) {
        const op = rowOpOf(r, config.mode);
        if (op === null) continue;
        if (op.kind === 'failure') failures.push(op);
        else ops.push(op);
      }
      if (tolerance === 'none' && failures[0]) throw new Error(failureReason(failures[0]));
      await db.query('BEGIN');
      try {
        // No table and nothing to create it from (only tombstones): nothing to write, offsets move on.
        const present = await ensureTable(ops.filter((o): o is RowWrite => o.kind === 'write'));
        if (present && perRow) {
          // Row by row in record order, each behind a savepoint: a refused row is undone alone and
          // set aside, and the key keeps its last row that was taken (so no compaction here).
          for (const op of ops) {
            try {
              await applyRow(op);
            } catch (e) {
              if (!(e instanceof RowRefused)) throw e;
              if (tolerance === 'none') throw new Error(failureReason(e.failure));
              failures.push(e.failure);
            }
          }
        } else if (present) {
          for (const st of statementsOf(upsert ? lastPerKey(ops) : ops)) await run(st);
        }
        for (const f of fetched) {
          const s = stateOf.get(`${f.topic}/${f.partition}`);
          if (!s || (f.nextOffset === s.stored && !s.resetPending)) continue;
          // Conditional on the value read, not on direction: a reset moves it backwards too (and a
          // rewind that lands where the table was still takes the fence).
          const moved = await run(
            advanceOffset(schema, connector.id, s.topic, s.partition, s.stored, f.nextOffset),
          );
          if (moved.rowCount !== 1) throw new LeaseLost(lease); // another task moved it: we are stale
        }
        if (failures.length > 0) {
          ctx.log.warn(
            { records: failures.length, first: failures[0]?.message },
            'records skipped (errors.tolerance all)',
          );
          ctx.metrics.skipped.inc(labels, failures.length);
          await dlq?.send(
            failures.map((f) =>
              deadLetterRecord(f, {
                connectorName: connector.name,
                task: lease.task,
                executingClass: 'PostgresSinkTask',
              }),
            ),
          );
        }
        await db.query('COMMIT');
      } catch (e) {
        await db.query('ROLLBACK').catch(() => {});
        tableKnown = false; // it may have been created by what was just undone
        throw e;
      }
      for (const f of fetched) {
        const s = stateOf.get(`${f.topic}/${f.partition}`);
        if (!s || (f.nextOffset === s.stored && !s.resetPending)) continue;
        s.stored = f.nextOffset;
        s.position = f.nextOffset;
        s.resetPending = false; // the commit below clears it in the control plane
        // The control plane's copy, for the offsets view (and a lease check): the target's is the truth.
        await store.commit(lease, {
          topic: s.topic,
          partition: s.partition,
          offset: f.nextOffset,
          pending: null,
        });
      }
      ctx.metrics.records.inc(labels, records.length - failures.length);
      ctx.metrics.bytes.inc(
        labels,
        records.reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0),
      );
    };

    while (!signal.aborted) {
      const fetched = await source.fetch(
        states.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.position })),
        FETCH_WAIT_MS,
      );
      if (signal.aborted) return;
      const advanced = fetched.filter((f) => {
        const s = stateOf.get(`${f.topic}/${f.partition}`);
        return s !== undefined && hasWork(s, f.nextOffset);
      });
      if (advanced.length > 0) {
        try {
          await commitBatch(advanced, false);
        } catch (e) {
          if (!isRowError(sqlStateOf(e))) throw e;
          await commitBatch(advanced, true); // find the rows at fault, one by one
        }
      }
      for (const f of fetched) {
        const s = stateOf.get(`${f.topic}/${f.partition}`);
        if (!s) continue;
        ctx.metrics.lag.set(
          {
            instance: connector.instanceId,
            connector: connector.id,
            topic: f.topic,
            partition: String(f.partition),
          },
          Number(f.highWatermark - (s.stored ?? 0n)),
        );
      }
    }
  } catch (e) {
    if (e instanceof LeaseLost) throw e;
    const state = sqlStateOf(e);
    // Connection-level failures (class 08, admin shutdown 57P) name the database they could not reach.
    if (
      state?.startsWith('08') ||
      state?.startsWith('57P') ||
      (e as { code?: string }).code === 'ECONNREFUSED'
    )
      throw new Error(`cannot reach PostgreSQL at ${where}: ${(e as Error).message}`);
    throw e;
  } finally {
    await source.close();
    await dlq?.close();
    await db.end().catch(() => {});
  }
}
