import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllowedNetworks } from '@fjord/egress';
import { freePorts } from '@fjord/fleet';
import { MonitoringStack } from '@fjord/monitoring';
import { AGENT_SECRET, startTestService, type TestService } from './service.js';

/** The control plane with a real Prometheus and Alertmanager, tuned to react within seconds. */
export interface MonitoredService extends TestService {
  readonly stack: MonitoringStack;
  readonly internalToken: string;
}

export async function startMonitoredService(
  zones = 3,
  workerEnv: Record<string, string> = {},
): Promise<MonitoredService> {
  const [prometheusPort, alertmanagerPort] = await freePorts('127.0.0.1', 2);
  const dir = mkdtempSync(join(tmpdir(), 'fjord-monitoring-'));
  const internalToken = randomBytes(16).toString('hex');
  const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;
  const s = await startTestService(
    zones,
    {
      FJORD_PROMETHEUS_URL: prometheusUrl,
      FJORD_PROMETHEUS_RULES_DIR: join(dir, 'rules'),
      FJORD_SCRAPE_INTERVAL_SECONDS: '1',
      FJORD_ALARM_SYNC_MS: '500',
      FJORD_NOTIFY_POLL_MS: '250',
      // The tests' webhook receivers listen on loopback, which production refuses.
      FJORD_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
      ...workerEnv,
    },
    {
      prometheusUrl,
      internalToken,
      scrapeIntervalSeconds: 1,
      webhookAllowedNetworks: parseAllowedNetworks('127.0.0.0/8'),
    },
  );
  const stack = new MonitoringStack({
    dir,
    host: '127.0.0.1',
    prometheusPort: prometheusPort!,
    alertmanagerPort: alertmanagerPort!,
    apiUrl: s.t.api.url,
    internalToken,
    agentSecret: AGENT_SECRET,
    scrapeIntervalSeconds: 1,
    evaluationIntervalSeconds: 1,
    discoveryRefreshSeconds: 1,
    alertGroupWaitSeconds: 1,
    alertGroupIntervalSeconds: 1,
  });
  await stack.start();
  const close = s.close;
  return Object.assign(s, {
    stack,
    internalToken,
    async close() {
      await stack.stop();
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** Prometheus's own view, for checking what it scrapes and evaluates. */
export async function prometheusApi<T>(stack: MonitoringStack, path: string): Promise<T> {
  const res = await fetch(`${stack.prometheusUrl}${path}`);
  const body = (await res.json()) as { status: string; data: T };
  if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${JSON.stringify(body)}`);
  return body.data;
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${what} did not happen within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}
