import pg from 'pg';
import type { MetadataLogEntry, MetadataRecord } from '../records.js';
import type { MetadataStore } from './MetadataStore.js';

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
}

const CHANNEL = 'fjord_metadata';

/**
 * The metadata log of a clustered instance, kept in PostgreSQL (tables `MetadataLog` and
 * `ControllerLease`, migrated by packages/db). Consensus is PostgreSQL's: the controller is
 * whichever broker holds the lease, and every append runs in a transaction that locks the
 * lease row and checks the appender's epoch, so a controller that lost its lease cannot write.
 * Readers learn of appends through LISTEN/NOTIFY and catch up by offset. Several clusters
 * share one database, isolated by cluster id.
 */
export class PostgresMetadataStore implements MetadataStore {
  private readonly pool: pg.Pool;
  private listener?: pg.PoolClient;
  /** The lease epoch this store appends under; set by acquireLease. */
  private epoch?: number;

  constructor(
    readonly clusterId: string,
    readonly brokerId: number,
    connectionString: string,
  ) {
    this.pool = new pg.Pool({ connectionString, max: 4 });
  }

  /**
   * Takes or renews the controller lease when it is free, expired, or already ours. Returns
   * the lease as it stands afterwards (held by someone else when we did not get it).
   */
  async acquireLease(ttlMs: number): Promise<ControllerLease> {
    const r = await this.pool.query<{ holderBrokerId: number; epoch: string; expiresAt: Date }>(
      `INSERT INTO "ControllerLease" ("clusterId", "holderBrokerId", epoch, "expiresAt")
       VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
       ON CONFLICT ("clusterId") DO UPDATE SET
         epoch = CASE WHEN "ControllerLease"."holderBrokerId" = EXCLUDED."holderBrokerId"
                      THEN "ControllerLease".epoch ELSE "ControllerLease".epoch + 1 END,
         "holderBrokerId" = EXCLUDED."holderBrokerId",
         "expiresAt" = EXCLUDED."expiresAt"
       WHERE "ControllerLease"."holderBrokerId" = EXCLUDED."holderBrokerId" OR "ControllerLease"."expiresAt" < now()
       RETURNING "holderBrokerId", epoch, "expiresAt"`,
      [this.clusterId, this.brokerId, ttlMs],
    );
    const row = r.rows[0] ?? (await this.currentLease());
    if (!row) throw new Error('lease row vanished');
    const lease = { holderBrokerId: row.holderBrokerId, epoch: Number(row.epoch), expiresAt: row.expiresAt };
    this.epoch = lease.holderBrokerId === this.brokerId ? lease.epoch : undefined;
    return lease;
  }

  private async currentLease() {
    const r = await this.pool.query<{ holderBrokerId: number; epoch: string; expiresAt: Date }>(
      'SELECT "holderBrokerId", epoch, "expiresAt" FROM "ControllerLease" WHERE "clusterId" = $1',
      [this.clusterId],
    );
    return r.rows[0];
  }

  /** Appends as the lease holder; refused with FencedControllerError otherwise. */
  async append(records: readonly MetadataRecord[]): Promise<MetadataLogEntry[]> {
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
      const last = await client.query<{ max: string | null }>(
        'SELECT max("offset") AS max FROM "MetadataLog" WHERE "clusterId" = $1',
        [this.clusterId],
      );
      let next = last.rows[0]!.max === null ? 0 : Number(last.rows[0]!.max) + 1;
      const entries = records.map((record) => ({ offset: next++, record }));
      for (const e of entries) {
        await client.query('INSERT INTO "MetadataLog" ("clusterId", "offset", record) VALUES ($1, $2, $3)', [
          this.clusterId,
          e.offset,
          JSON.stringify(e.record),
        ]);
      }
      await client.query(`SELECT pg_notify('${CHANNEL}', $1)`, [this.clusterId]);
      await client.query('COMMIT');
      return entries;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  async readAfter(afterOffset: number): Promise<MetadataLogEntry[]> {
    const r = await this.pool.query<{ offset: string; record: MetadataRecord }>(
      'SELECT "offset", record FROM "MetadataLog" WHERE "clusterId" = $1 AND "offset" > $2 ORDER BY "offset"',
      [this.clusterId, afterOffset],
    );
    return r.rows.map((row) => ({ offset: Number(row.offset), record: row.record }));
  }

  /** Calls `onAppend` whenever this cluster's log grows (LISTEN/NOTIFY). */
  async listen(onAppend: () => void): Promise<void> {
    const client = await this.pool.connect();
    // A dropped LISTEN connection only delays wake-ups: readers also catch up by offset.
    client.on('error', () => {});
    client.on('notification', (n) => {
      if (n.payload === this.clusterId) onAppend();
    });
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  async close(): Promise<void> {
    this.listener?.release(true);
    await this.pool.end();
  }
}
