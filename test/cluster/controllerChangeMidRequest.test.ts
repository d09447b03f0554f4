/**
 * An admin request the controller is carrying out when another broker takes the controller lease
 * over (a stalled controller on a busy machine): nothing was written, and as on Kafka — whose
 * brokers send a forwarded request on to the next controller when the answer says NOT_CONTROLLER —
 * the client gets the outcome from the new controller, not UNKNOWN_SERVER_ERROR. librdkafka's own
 * suite met this under load (test 0026, "Unknown broker error" from CreateTopics).
 *
 * The takeover is made deterministic in PostgreSQL: the test holds the lease row while it hands
 * the lease to the other broker, so the controller's append is seen waiting for the row before
 * the takeover is committed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '@fjord/broker-app';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from '../compat/clients.js';
import { ClusterProbe, freshDatabase, waitFor } from './harness.js';

const PYTHON = '/usr/bin/python3'; // Debian's Python, which sees python3-confluent-kafka
/** Failure detection only: clusters run beside other tests on two cores. */
const SETTLE_MS = 60_000;

let cluster: LocalCluster;
let probe: ClusterProbe;
let db: Awaited<ReturnType<typeof freshDatabase>>;
let baseDir: string;

beforeAll(async () => {
  db = await freshDatabase();
  baseDir = mkdtempSync(join(tmpdir(), 'fjord-controller-change-'));
  cluster = await LocalCluster.start({
    brokers: 2,
    zones: 2,
    databaseUrl: db.url,
    baseDir,
    logLevel: process.env.FJORD_TEST_LOG ?? 'info',
    // A long lease: the controller must still think itself active when the request reaches it.
    overrides: { 'fjord.controller.lease.ms': '30000' },
  });
  probe = new ClusterProbe(cluster);
}, 120_000);

afterAll(async () => {
  await cluster?.kill();
  await db?.drop().catch(() => {});
  if (baseDir) rmSync(baseDir, { recursive: true, force: true });
});

async function leaseHolder(): Promise<number> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const r = await c.query<{ holderBrokerId: number }>(
      'SELECT "holderBrokerId" FROM "ControllerLease" WHERE "clusterId" = $1',
      [cluster.clusterId],
    );
    return r.rows[0]!.holderBrokerId;
  } finally {
    await c.end();
  }
}

/** Waits until both brokers name `id` as the controller and it holds the lease. */
async function controllerSettledOn(id: number): Promise<void> {
  await waitFor(
    async () =>
      (await leaseHolder()) === id &&
      (
        await Promise.all(cluster.brokers.map(async (b) => (await probeMetadataController(b.id)) === id))
      ).every(Boolean),
    SETTLE_MS,
    `broker ${id} the controller everywhere`,
  );
}

async function probeMetadataController(brokerId: number): Promise<number> {
  const md = await probe.sendTo(brokerId, ApiKey.Metadata, 9, {
    topics: [],
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
  return md.controllerId;
}

/**
 * Runs `request` while the lease passes from the current controller to `to`: the lease row is
 * locked and handed over in one transaction, which commits once the controller's append waits for it.
 */
async function leaseTakenOverDuring<T>(to: number, request: () => Promise<T>): Promise<T> {
  const tx = new pg.Client({ connectionString: db.url });
  const watch = new pg.Client({ connectionString: db.url });
  await Promise.all([tx.connect(), watch.connect()]);
  try {
    await tx.query('BEGIN');
    await tx.query(
      `UPDATE "ControllerLease" SET "holderBrokerId" = $2, epoch = epoch + 1,
         "expiresAt" = now() + interval '30 seconds' WHERE "clusterId" = $1`,
      [cluster.clusterId, to],
    );
    const pending = request();
    pending.catch(() => {});
    await waitFor(
      async () => {
        const r = await watch.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()
             AND wait_event_type = 'Lock' AND query LIKE '%"ControllerLease"%FOR UPDATE%'`,
        );
        return Number(r.rows[0]!.n) > 0;
      },
      SETTLE_MS,
      "the controller's append waiting for the lease row",
    );
    await tx.query('COMMIT');
    return await pending;
  } finally {
    await Promise.all([tx.end(), watch.end()]);
  }
}

const CREATE_TOPIC = `
import json, sys
from confluent_kafka.admin import AdminClient, NewTopic
a = AdminClient({'bootstrap.servers': sys.argv[1]})
f = a.create_topics([NewTopic(sys.argv[2], 1, 1)], operation_timeout=60, request_timeout=120)[sys.argv[2]]
try:
    f.result(120)
    print(json.dumps({'error': None}))
except Exception as e:
    print(json.dumps({'error': str(e)}))
`;

describe.sequential('an admin request the controller is in the middle of when it loses the lease', () => {
  it('librdkafka creates its topic: the old controller sends the request on to the new one', async () => {
    const from = await leaseHolder();
    const to = from === 1 ? 2 : 1;
    await controllerSettledOn(from);
    // librdkafka sends CreateTopics to the controller named in Metadata: `from`.
    const result = await leaseTakenOverDuring(to, () =>
      runProcess(PYTHON, ['-c', CREATE_TOPIC, cluster.broker(from).address, 'made-during-takeover']),
    );
    expect(result).toEqual({ error: null });
    await waitFor(async () => (await probe.partitions('made-during-takeover')).length === 1, SETTLE_MS);
  });

  it('a request forwarded to the controller is forwarded again to the new one', async () => {
    const from = await leaseHolder();
    const to = from === 1 ? 2 : 1;
    await controllerSettledOn(from);
    // Sent to the other broker, which forwards it (Envelope) to `from`, then becomes the controller.
    const response = await leaseTakenOverDuring(to, () =>
      probe.sendTo(to, ApiKey.CreateTopics, 7, {
        topics: [
          {
            name: 'forwarded-during-takeover',
            numPartitions: 1,
            replicationFactor: 1,
            assignments: [],
            configs: [],
          },
        ],
        timeoutMs: 30_000,
        validateOnly: false,
      }),
    );
    expect(response.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['forwarded-during-takeover', ErrorCode.NONE],
    ]);
  });
});
