import type { ConnectorTaskStateValue } from '@fjord/contracts';
import type pg from 'pg';
import type { OffsetRun } from './mirror/offsetTranslation.js';

/** A task this worker holds: which connector, which task, and the fencing epoch of the lease. */
export interface TaskLease {
  readonly connectorId: string;
  readonly task: number;
  readonly epoch: number;
}

/** What a worker needs to run a connector's task (the row as stored; config parsed by the task). */
export interface ConnectorSpec {
  readonly id: string;
  readonly instanceId: string;
  readonly name: string;
  readonly type: string;
  readonly config: unknown;
  readonly sealedSecrets: string;
  readonly desiredState: 'RUNNING' | 'PAUSED';
  readonly tasksMax: number;
  readonly generation: number;
}

/** Committed progress of one partition, with the object named but maybe not yet written. */
export interface PartitionProgress {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly pending: { first: bigint; last: bigint } | null;
}

/** Progress as stored: also whether a reset (`PUT …/offsets`) wrote it and no task has committed since. */
export interface StoredProgress extends PartitionProgress {
  readonly resetPending: boolean;
}

/** The lease was lost (expired and taken, or the connector deleted): stop, write nothing more. */
export class LeaseLost extends Error {
  constructor(lease: TaskLease) {
    super(`lease of ${lease.connectorId}/${lease.task} (epoch ${lease.epoch}) is no longer held`);
  }
}

const key = (l: { connectorId: string; task: number }) => `${l.connectorId}/${l.task}`;

/** Offset runs kept per mirrored partition: offsets older than the oldest run are not translated. */
const MAX_OFFSET_RUNS = 1000;

/**
 * Task leases and sink progress in PostgreSQL (docs/adr/0022-connector-runtime.md). A lease is a
 * `ConnectorTask` row's `workerId` + `leaseExpiresAt`; taking one over bumps `leaseEpoch`, and every
 * progress write checks the epoch under the task row's lock, so a worker that lost its lease (paused,
 * partitioned) cannot move offsets behind the new holder's back.
 */
export class LeaseStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly workerId: string,
    private readonly leaseMs: number,
  ) {}

  /** Extends the leases still held; answers those that are (the rest were lost). */
  async renew(held: readonly TaskLease[]): Promise<Set<string>> {
    if (held.length === 0) return new Set();
    const r = await this.pool.query<{ connectorId: string; task: number }>(
      `UPDATE "ConnectorTask" t SET "leaseExpiresAt" = now() + make_interval(secs => $2::float8 / 1000)
         FROM unnest($3::text[], $4::int[], $5::int[]) AS h(c, k, e)
        WHERE t."connectorId" = h.c AND t."task" = h.k AND t."leaseEpoch" = h.e AND t."workerId" = $1
       RETURNING t."connectorId", t."task"`,
      [
        this.workerId,
        this.leaseMs,
        held.map((l) => l.connectorId),
        held.map((l) => l.task),
        held.map((l) => l.epoch),
      ],
    );
    return new Set(r.rows.map(key));
  }

  /**
   * Marks this worker alive (and where its metrics are) and answers how many workers are alive,
   * this one included, and how many tasks there are to share. Rows of workers silent for 20
   * leases are removed on the way.
   */
  async heartbeat(metricsAddress: string | null): Promise<{ workers: number; tasks: number }> {
    const r = await this.pool.query<{ workers: string; tasks: string }>(
      `WITH me AS (
         INSERT INTO "ConnectWorkerHeartbeat" ("id", "metricsAddress", "heartbeatAt") VALUES ($1, $2, now())
         ON CONFLICT ("id") DO UPDATE SET "metricsAddress" = EXCLUDED."metricsAddress", "heartbeatAt" = now()
         RETURNING 1),
       gone AS (DELETE FROM "ConnectWorkerHeartbeat" WHERE "heartbeatAt" < now() - make_interval(secs => $3::float8 * 20 / 1000))
       SELECT (SELECT count(*) FROM "ConnectWorkerHeartbeat"
                WHERE "id" <> $1 AND "heartbeatAt" > now() - make_interval(secs => $3::float8 / 1000)) + 1 AS "workers",
              (SELECT count(*) FROM "ConnectorTask") AS "tasks"
         FROM me`,
      [this.workerId, metricsAddress, this.leaseMs],
    );
    return { workers: Number(r.rows[0]!.workers), tasks: Number(r.rows[0]!.tasks) };
  }

  /** This worker stops: the others count without it at once. */
  async leave(): Promise<void> {
    await this.pool.query(`DELETE FROM "ConnectWorkerHeartbeat" WHERE "id" = $1`, [this.workerId]);
  }

  /**
   * Takes up to `max` tasks nobody holds (never held, expired, or released), oldest connectors
   * first. SKIP LOCKED: workers racing for tasks never wait on one another.
   */
  async acquire(max: number): Promise<TaskLease[]> {
    if (max <= 0) return [];
    const r = await this.pool.query<{ connectorId: string; task: number; leaseEpoch: number }>(
      `UPDATE "ConnectorTask" t
          SET "workerId" = $1, "leaseEpoch" = t."leaseEpoch" + 1,
              "leaseExpiresAt" = now() + make_interval(secs => $2::float8 / 1000), "updatedAt" = now()
         FROM (SELECT "connectorId", "task" FROM "ConnectorTask"
                WHERE "workerId" IS NULL OR "leaseExpiresAt" IS NULL OR "leaseExpiresAt" < now()
                ORDER BY "connectorId", "task" LIMIT $3 FOR UPDATE SKIP LOCKED) AS free
        WHERE t."connectorId" = free."connectorId" AND t."task" = free."task"
       RETURNING t."connectorId", t."task", t."leaseEpoch"`,
      [this.workerId, this.leaseMs, max],
    );
    return r.rows.map((x) => ({ connectorId: x.connectorId, task: x.task, epoch: x.leaseEpoch }));
  }

  /** Gives a lease back (shutdown): another worker may take the task at once. */
  async release(lease: TaskLease): Promise<void> {
    await this.pool.query(
      `UPDATE "ConnectorTask" SET "workerId" = NULL, "leaseExpiresAt" = NULL, "state" = 'UNASSIGNED',
              "updatedAt" = now()
        WHERE "connectorId" = $1 AND "task" = $2 AND "leaseEpoch" = $3 AND "workerId" = $4`,
      [lease.connectorId, lease.task, lease.epoch, this.workerId],
    );
  }

  async connector(id: string): Promise<ConnectorSpec | undefined> {
    const r = await this.pool.query<ConnectorSpec>(
      `SELECT "id", "instanceId", "name", "type", "config", "sealedSecrets", "desiredState", "tasksMax",
              "generation" FROM "Connector" WHERE "id" = $1`,
      [id],
    );
    return r.rows[0];
  }

  /** Records what the task is doing, if this worker still holds it (a lost lease changes nothing). */
  async setState(lease: TaskLease, state: ConnectorTaskStateValue, reason: string | null): Promise<void> {
    await this.pool.query(
      `UPDATE "ConnectorTask" SET "state" = $1, "reason" = $2, "updatedAt" = now()
        WHERE "connectorId" = $3 AND "task" = $4 AND "leaseEpoch" = $5 AND "workerId" = $6
          AND ("state" IS DISTINCT FROM $1 OR "reason" IS DISTINCT FROM $2)`,
      [state, reason, lease.connectorId, lease.task, lease.epoch, this.workerId],
    );
  }

  async progress(connectorId: string): Promise<StoredProgress[]> {
    const r = await this.pool.query<{
      topic: string;
      partition: number;
      offset: string;
      pendingFirst: string | null;
      pendingLast: string | null;
      resetPending: boolean;
    }>(
      `SELECT "topic", "partition", "offset", "pendingFirst", "pendingLast", "resetPending"
         FROM "ConnectorOffset" WHERE "connectorId" = $1`,
      [connectorId],
    );
    return r.rows.map((x) => ({
      topic: x.topic,
      partition: x.partition,
      offset: BigInt(x.offset),
      pending:
        x.pendingFirst !== null && x.pendingLast !== null
          ? { first: BigInt(x.pendingFirst), last: BigInt(x.pendingLast) }
          : null,
      resetPending: x.resetPending,
    }));
  }

  /**
   * Writes a partition's progress (`offset`, and the object about to be written or null) and, for
   * a mirror, the offset runs its last batch made, if the lease is still this worker's; otherwise
   * throws LeaseLost and writes nothing. A pending reset of the partition is done with: cleared.
   */
  async commit(lease: TaskLease, p: PartitionProgress, runs: readonly OffsetRun[] = []): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const held = await c.query(
        `SELECT 1 FROM "ConnectorTask" WHERE "connectorId" = $1 AND "task" = $2 AND "leaseEpoch" = $3
            AND "workerId" = $4 FOR UPDATE`,
        [lease.connectorId, lease.task, lease.epoch, this.workerId],
      );
      if (held.rowCount === 0) throw new LeaseLost(lease);
      await c.query(
        `INSERT INTO "ConnectorOffset" ("connectorId", "topic", "partition", "offset", "pendingFirst",
                "pendingLast", "updatedAt") VALUES ($1, $2, $3, $4, $5, $6, now())
         ON CONFLICT ("connectorId", "topic", "partition") DO UPDATE SET "offset" = EXCLUDED."offset",
                "pendingFirst" = EXCLUDED."pendingFirst", "pendingLast" = EXCLUDED."pendingLast",
                "resetPending" = false, "updatedAt" = now()`,
        [
          lease.connectorId,
          p.topic,
          p.partition,
          p.offset.toString(),
          p.pending?.first.toString() ?? null,
          p.pending?.last.toString() ?? null,
        ],
      );
      if (runs.length > 0) {
        await c.query(
          `INSERT INTO "MirrorOffsetRun" ("connectorId", "topic", "partition", "sourceStart", "sourceEnd", "targetStart")
           SELECT $1, $2, $3, s, e, t FROM unnest($4::bigint[], $5::bigint[], $6::bigint[]) AS r(s, e, t)
           ON CONFLICT ("connectorId", "topic", "partition", "sourceStart")
           DO UPDATE SET "sourceEnd" = EXCLUDED."sourceEnd", "targetStart" = EXCLUDED."targetStart"`,
          [
            lease.connectorId,
            p.topic,
            p.partition,
            runs.map((r) => r.sourceStart.toString()),
            runs.map((r) => r.sourceEnd.toString()),
            runs.map((r) => r.targetStart.toString()),
          ],
        );
        // Bounded history (a run per source gap: a transactional source makes one per transaction).
        await c.query(
          `DELETE FROM "MirrorOffsetRun" WHERE "connectorId" = $1 AND "topic" = $2 AND "partition" = $3
             AND "sourceStart" < (SELECT "sourceStart" FROM "MirrorOffsetRun"
               WHERE "connectorId" = $1 AND "topic" = $2 AND "partition" = $3
               ORDER BY "sourceStart" DESC OFFSET $4 LIMIT 1)`,
          [lease.connectorId, p.topic, p.partition, MAX_OFFSET_RUNS - 1],
        );
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  /** A mirror's offset runs of `topics`, by `topic/partition`, in ascending source offset. */
  async offsetRuns(connectorId: string, topics: readonly string[]): Promise<Map<string, OffsetRun[]>> {
    const r = await this.pool.query<{
      topic: string;
      partition: number;
      sourceStart: string;
      sourceEnd: string;
      targetStart: string;
    }>(
      `SELECT "topic", "partition", "sourceStart", "sourceEnd", "targetStart" FROM "MirrorOffsetRun"
        WHERE "connectorId" = $1 AND "topic" = ANY($2::text[]) ORDER BY "topic", "partition", "sourceStart"`,
      [connectorId, [...topics]],
    );
    const out = new Map<string, OffsetRun[]>();
    for (const x of r.rows) {
      const key = `${x.topic}/${x.partition}`;
      const list = out.get(key) ?? [];
      list.push({
        sourceStart: BigInt(x.sourceStart),
        sourceEnd: BigInt(x.sourceEnd),
        targetStart: BigInt(x.targetStart),
      });
      out.set(key, list);
    }
    return out;
  }

  /** The CONTROL listener of each running broker of an instance (host:port). */
  async controlEndpoints(instanceId: string): Promise<string[]> {
    const r = await this.pool.query<{ host: string; ports: Record<string, number> }>(
      `SELECT "host", "ports" FROM "BrokerPlacement" WHERE "instanceId" = $1 AND "status" = 'RUNNING'
        ORDER BY "brokerId"`,
      [instanceId],
    );
    return r.rows.filter((b) => b.ports.CONTROL).map((b) => `${b.host}:${b.ports.CONTROL}`);
  }
}

export const leaseKey = key;
