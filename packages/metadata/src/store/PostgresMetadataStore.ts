import pg from 'pg';
import type { MetadataLogEntry, MetadataRecord } from '../records.js';
import type { MetadataSnapshot, MetadataStore } from './MetadataStore.js';

/** The controller lease was lost (or never held): appends by a stale controller are refused. */
export class FencedControllerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FencedControllerError';
  }
}

export interface ControllerLease {
  readonly holderBrokerId: number;
  /** Fencing token: grows by one whenever the lease changes hands. */
  readonly epoch: number;
  readonly expiresAt: Date;
  /** Time left on the lease by the database's clock (≤ 0 once it lapsed). */
  readonly remainingMs: number;
}

/** Where the controller lease lives: PostgreSQL for clusters; a standalone broker holds it alone. */
export interface ControllerLeaseStore {
  acquireLease(ttlMs: number): Promise<ControllerLease>;
  /** Gives the lease up at once if held (a clean shutdown), so another broker takes over now. */
  releaseLease(): Promise<void>;
}

type LeaseRow = { holderBrokerId: number; epoch: string; expiresAt: Date; remainingMs: number };

const CHANNEL = 'fjord_metadata';
const REMAINING_MS = `(EXTRACT(EPOCH FROM ("expiresAt" - now())) * 1000)::float8 AS "remainingMs"`;

/**
 * The metadata log of a clustered instance, kept in PostgreSQL (tables `MetadataLog` and
 * `ControllerLease`, migrated by packages/db). Consensus is PostgreSQL's: the controller is
 * whichever broker holds the lease, and every append runs in a transaction that locks the
 * lease row and checks the appender's epoch, so a controller that lost its lease cannot write.
 * Readers learn of appends through LISTEN/NOTIFY and catch up by offset. Several clusters
 * share one database, isolated by cluster id.
 */
export class PostgresMetadataStore implements MetadataStore, ControllerLeaseStore {
  private readonly pool: pg.Pool;
  private listener?: pg.Client;
  private onAppend?: () => void;
  private closed = false;
  /** The lease epoch this store appends under; set by acquireLease. */
  private epoch?: number;

  constructor(
    readonly clusterId: string,
    readonly brokerId: number,
    private readonly connectionString: string,
  ) {
    this.pool = new pg.Pool({ connectionString, max: 4, connectionTimeoutMillis: 5000 });
    // Idle connections fail when PostgreSQL restarts; queries report their own errors.
    this.pool.on('error', () => {});
  }

  /**
   * Takes or renews the controller lease when it is free, expired, or already ours. Returns
   * the lease as it stands afterwards (held by someone else when we did not get it).
   */
  async acquireLease(ttlMs: number): Promise<ControllerLease> {
    const r = await this.pool.query<LeaseRow>(
      `INSERT INTO "ControllerLease" ("clusterId", "holderBrokerId", epoch, "expiresAt")
       VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
       ON CONFLICT ("clusterId") DO UPDATE SET
         epoch = CASE WHEN "ControllerLease"."holderBrokerId" = EXCLUDED."holderBrokerId"
                      THEN "ControllerLease".epoch ELSE "ControllerLease".epoch + 1 END,
         "holderBrokerId" = EXCLUDED."holderBrokerId",
         "expiresAt" = EXCLUDED."expiresAt"
       WHERE "ControllerLease"."holderBrokerId" = EXCLUDED."holderBrokerId" OR "ControllerLease"."expiresAt" < now()
       RETURNING "holderBrokerId", epoch, "expiresAt", ${REMAINING_MS}`,
      [this.clusterId, this.brokerId, ttlMs],
    );
    const row = r.rows[0] ?? (await this.currentLease());
    if (!row) throw new Error('lease row vanished');
    const lease = {
      holderBrokerId: row.holderBrokerId,
      epoch: Number(row.epoch),
      expiresAt: row.expiresAt,
      remainingMs: Number(row.remainingMs),
    };
    this.epoch = lease.holderBrokerId === this.brokerId ? lease.epoch : undefined;
    return lease;
  }

  private async currentLease() {
    const r = await this.pool.query<LeaseRow>(
      `SELECT "holderBrokerId", epoch, "expiresAt", ${REMAINING_MS} FROM "ControllerLease" WHERE "clusterId" = $1`,
      [this.clusterId],
    );
    return r.rows[0];
  }

  async releaseLease(): Promise<void> {
    if (this.epoch === undefined) return;
    await this.pool.query(
      `UPDATE "ControllerLease" SET "expiresAt" = now() WHERE "clusterId" = $1 AND "holderBrokerId" = $2 AND epoch = $3`,
      [this.clusterId, this.brokerId, this.epoch],
    );
    this.epoch = undefined;
  }

  /** Appends as the lease holder; refused with FencedControllerError otherwise. */
  async append(records: readonly MetadataRecord[]): Promise<MetadataLogEntry[]> {
    return this.inLeaseTransaction(async (client) => {
      const last = await client.query<{ max: string | null }>(
        'SELECT max("offset") AS max FROM "MetadataLog" WHERE "clusterId" = $1',
        [this.clusterId],
      );
      // An empty log that was trimmed continues after its snapshot.
      const snap = await client.query<{ max: string | null }>(
        'SELECT max("offset") AS max FROM "MetadataSnapshot" WHERE "clusterId" = $1',
        [this.clusterId],
      );
      const lastOffset = Math.max(Number(last.rows[0]!.max ?? -1), Number(snap.rows[0]!.max ?? -1));
      let next = lastOffset + 1;
      const entries = records.map((record) => ({ offset: next++, record }));
      for (const e of entries) {
        await client.query('INSERT INTO "MetadataLog" ("clusterId", "offset", record) VALUES ($1, $2, $3)', [
          this.clusterId,
          e.offset,
          JSON.stringify(e.record),
        ]);
      }
      await client.query(`SELECT pg_notify('${CHANNEL}', $1)`, [this.clusterId]);
      return entries;
    });
  }

  /** Runs `work` in a transaction that holds the lease row and checks it is still ours. */
  private async inLeaseTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.epoch === undefined)
      throw new FencedControllerError(`broker ${this.brokerId} does not hold the controller lease`);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const lease = await client.query<{ holderBrokerId: number; epoch: string; live: boolean }>(
        'SELECT "holderBrokerId", epoch, "expiresAt" > now() AS live FROM "ControllerLease" WHERE "clusterId" = $1 FOR UPDATE',
        [this.clusterId],
      );
      const row = lease.rows[0];
      if (!row || row.holderBrokerId !== this.brokerId || Number(row.epoch) !== this.epoch || !row.live)
        throw new FencedControllerError(
          `controller epoch ${this.epoch} of broker ${this.brokerId} is no longer current`,
        );
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  async latestSnapshot(): Promise<MetadataSnapshot | undefined> {
    const r = await this.pool.query<{ offset: string; records: MetadataRecord[] }>(
      'SELECT "offset", records FROM "MetadataSnapshot" WHERE "clusterId" = $1 ORDER BY "offset" DESC LIMIT 1',
      [this.clusterId],
    );
    const row = r.rows[0];
    return row && { offset: Number(row.offset), records: row.records };
  }

  /**
   * Stores a snapshot of the image at `offset` and trims the log and older snapshots below
   * `trimBelow` (kept behind the snapshot so brokers a little behind still catch up by log).
   * As the lease holder only, like appends.
   */
  async writeSnapshot(snapshot: MetadataSnapshot, trimBelow: number): Promise<void> {
    await this.inLeaseTransaction(async (client) => {
      await client.query(
        'INSERT INTO "MetadataSnapshot" ("clusterId", "offset", records) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [this.clusterId, snapshot.offset, JSON.stringify(snapshot.records)],
      );
      await client.query('DELETE FROM "MetadataLog" WHERE "clusterId" = $1 AND "offset" < $2', [
        this.clusterId,
        trimBelow,
      ]);
      await client.query('DELETE FROM "MetadataSnapshot" WHERE "clusterId" = $1 AND "offset" < $2', [
        this.clusterId,
        Math.min(trimBelow, snapshot.offset),
      ]);
    });
  }

  async readAfter(afterOffset: number): Promise<MetadataLogEntry[]> {
    const r = await this.pool.query<{ offset: string; record: MetadataRecord }>(
      'SELECT "offset", record FROM "MetadataLog" WHERE "clusterId" = $1 AND "offset" > $2 ORDER BY "offset"',
      [this.clusterId, afterOffset],
    );
    return r.rows.map((row) => ({ offset: Number(row.offset), record: row.record }));
  }

  /**
   * Calls `onAppend` whenever this cluster's log grows (LISTEN/NOTIFY). A lost LISTEN
   * connection (PostgreSQL restarted) is re-opened every second until it works again, with an
   * `onAppend` call after each reconnect for what was missed meanwhile.
   */
  async listen(onAppend: () => void): Promise<void> {
    this.onAppend = onAppend;
    await this.openListener();
  }

  private async openListener(): Promise<void> {
    if (this.closed || !this.onAppend) return;
    const onAppend = this.onAppend;
    const client = new pg.Client({ connectionString: this.connectionString });
    const retry = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      client.end().catch(() => {});
      if (!this.closed) setTimeout(() => void this.openListener().catch(() => {}), 1000).unref();
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', (n) => {
      if (n.payload === this.clusterId) onAppend();
    });
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      onAppend();
    } catch (e) {
      retry();
      throw e;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => {});
    await this.pool.end();
  }
}
