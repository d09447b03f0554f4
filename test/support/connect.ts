import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { TEST_ADMIN_SECRET } from './api.js';

const CONNECT_MAIN = resolve(import.meta.dirname, '../../apps/connect/dist/main.js');

/** A connector worker process (apps/connect) on the test's database; short leases so tests move on quickly. */
export function startConnectWorker(databaseUrl: string, workerId: string, leaseMs = 3000): ChildProcess {
  return spawn(process.execPath, [CONNECT_MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      FJORD_ADMIN_SECRET: TEST_ADMIN_SECRET,
      FJORD_CONNECT_WORKER_ID: workerId,
      FJORD_CONNECT_LEASE_MS: String(leaseMs),
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
