#!/usr/bin/env node
/**
 * Runs the control plane's Prometheus and Alertmanager until SIGTERM/SIGINT (`npm run service`).
 * Configuration comes from the environment (the service script sources its secrets file); the
 * stack hands secrets to Prometheus and Alertmanager in 0600 files, never on a command line.
 */
import { resolve } from 'node:path';
import { MonitoringStack } from '../MonitoringStack.js';

const env = process.env;
const need = (name: string): string => {
  const v = env[name];
  if (!v) {
    console.error(`${name} must be set`);
    process.exit(2);
  }
  return v;
};
const scrape = Number(env.FJORD_SCRAPE_INTERVAL_SECONDS ?? 15);
const stack = new MonitoringStack({
  dir: resolve(need('FJORD_MONITORING_DIR')),
  host: env.FJORD_MONITORING_HOST ?? '127.0.0.1',
  prometheusPort: Number(env.FJORD_PROMETHEUS_PORT ?? 9090),
  alertmanagerPort: Number(env.FJORD_ALERTMANAGER_PORT ?? 9093),
  apiUrl: need('FJORD_API_URL'),
  internalToken: need('FJORD_INTERNAL_TOKEN'),
  agentSecret: need('FJORD_AGENT_SECRET'),
  ...(env.FJORD_WORKER_METRICS_LISTEN ? { worker: env.FJORD_WORKER_METRICS_LISTEN } : {}),
  scrapeIntervalSeconds: scrape,
  evaluationIntervalSeconds: scrape,
  discoveryRefreshSeconds: Number(env.FJORD_DISCOVERY_REFRESH_SECONDS ?? 15),
  alertGroupWaitSeconds: 10,
  alertGroupIntervalSeconds: 30,
});
await stack.start();
console.log(`prometheus ${stack.prometheusUrl}, alertmanager ${stack.alertmanagerUrl}`);
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.on(signal, () => void stack.stop().then(() => process.exit(0)));
