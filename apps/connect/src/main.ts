#!/usr/bin/env node
import { hostname } from 'node:os';
import { parseAllowedNetworks } from '@fjord/egress';
import pg from 'pg';
import { pino } from 'pino';
import { ConnectMetrics } from './ConnectMetrics.js';
import { ConnectWorker } from './ConnectWorker.js';
import { guardKafkaDials } from './kafkaDialGuard.js';
import { LeaseStore } from './LeaseStore.js';

const env = process.env;
const log = pino({ name: 'fjord-connect', level: env.FJORD_LOG_LEVEL ?? 'info' });
const adminSecret = env.FJORD_ADMIN_SECRET;
if (!adminSecret) {
  log.fatal('FJORD_ADMIN_SECRET must be set');
  process.exit(2);
}
// Connectors reach public addresses, plus these networks (docs/adr/0022, "Where connectors may connect").
const allowedNetworks = parseAllowedNetworks(env.FJORD_CONNECTOR_ALLOWED_NETWORKS);
guardKafkaDials(allowedNetworks);
const workerId = env.FJORD_CONNECT_WORKER_ID ?? `${hostname()}-${process.pid}`;
// A lease outlives a few missed heartbeats; a dead worker's tasks move once it lapses.
const leaseMs = Number(env.FJORD_CONNECT_LEASE_MS ?? 15_000);
const pool = new pg.Pool({
  connectionString: env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/fjord',
  max: 8,
  connectionTimeoutMillis: 5000,
});
pool.on('error', () => {});
const metrics = new ConnectMetrics();
const metricsHost = env.FJORD_CONNECT_METRICS_HOST ?? '127.0.0.1';
const { port, server } = await metrics.listen(metricsHost, Number(env.FJORD_CONNECT_METRICS_PORT ?? 0));
const worker = new ConnectWorker(new LeaseStore(pool, workerId, leaseMs), metrics, log, {
  adminSecret,
  allowedNetworks,
  heartbeatMs: Number(env.FJORD_CONNECT_HEARTBEAT_MS ?? Math.max(250, Math.floor(leaseMs / 5))),
  maxTasks: Number(env.FJORD_CONNECT_MAX_TASKS ?? 32),
  metricsAddress: `${metricsHost}:${port}`,
  minRetryMs: 1000,
  maxRetryMs: 60_000,
});
worker.start();
log.info({ workerId, leaseMs, metricsPort: port }, 'connect worker started');

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await worker.stop();
  server.close();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
