import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseAllowedNetworks } from '@fjord/egress';
import { TEST_ADMIN_SECRET } from './api.js';

const CONNECT_MAIN = resolve(import.meta.dirname, '../../apps/connect/dist/main.js');

/**
 * The tests' sources and sinks (brokers, PostgreSQL, s3rver) listen on loopback, which production
 * refuses connectors: the API and the connect workers of connector tests allow it.
 */
export const TEST_CONNECTOR_NETWORKS = '127.0.0.0/8';
/** API overrides (`startTestService`'s third argument) that let connectors reach loopback. */
export const connectorApiOverrides = {
  connectorAllowedNetworks: parseAllowedNetworks(TEST_CONNECTOR_NETWORKS),
} as const;

/** A connector worker process (apps/connect) on the test's database; short leases so tests move on quickly. */
export function startConnectWorker(databaseUrl: string, workerId: string, leaseMs = 3000): ChildProcess {
  return spawn(process.execPath, [CONNECT_MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      FJORD_ADMIN_SECRET: TEST_ADMIN_SECRET,
      FJORD_CONNECT_WORKER_ID: workerId,
      FJORD_CONNECT_LEASE_MS: String(leaseMs),
      FJORD_CONNECTOR_ALLOWED_NETWORKS: TEST_CONNECTOR_NETWORKS,
      FJORD_LOG_LEVEL: process.env.FJORD_TEST_LOG ? 'info' : 'warn',
    },
    stdio: ['ignore', process.env.FJORD_TEST_LOG ? 'inherit' : 'ignore', 'inherit'],
  });
}

/** Ends a worker: SIGKILL as a crash, SIGTERM as a shutdown (leases given back). */
export async function stopConnectWorker(w: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (w.exitCode !== null || w.signalCode !== null) return;
  const exited = new Promise((r) => w.once('exit', r));
  w.kill(signal);
  await exited;
}
