#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalCluster } from './LocalCluster.js';

const USAGE = `Usage: npm run cluster -- [--brokers N] [--zones N] [--data-dir DIR] [--base-port P] [--override k=v ...]
  Starts a replicated Fjord cluster on this machine: broker i on 127.0.0.i:(P+i) in zone az-((i-1)%zones+1),
  Prometheus metrics at http://127.0.0.i:(P+100+i)/metrics,
  the metadata log in PostgreSQL (DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/fjord).
  Ctrl-C stops the brokers with controlled shutdowns.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      brokers: { type: 'string', default: '3' },
      zones: { type: 'string', default: '3' },
      'data-dir': { type: 'string', default: '.data/cluster' },
      'base-port': { type: 'string', default: '19090' },
      'cluster-id': { type: 'string' },
      override: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const brokers = Number(values.brokers);
  const zones = Number(values.zones);
  if (!Number.isInteger(brokers) || brokers < 1 || brokers > 250) throw new Error('--brokers must be 1..250');
  if (!Number.isInteger(zones) || zones < 1) throw new Error('--zones must be at least 1');
  const overrides: Record<string, string> = {};
  for (const kv of values.override) {
    const at = kv.indexOf('=');
    if (at <= 0) throw new Error(`--override expects KEY=VALUE, got '${kv}'`);
    overrides[kv.slice(0, at)] = kv.slice(at + 1);
  }
  const cluster = await LocalCluster.start({
    brokers,
    zones,
    databaseUrl: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/fjord',
    baseDir: resolve(values['data-dir']),
    basePort: Number(values['base-port']),
    clusterId: values['cluster-id'],
    overrides,
  });
  console.log(`cluster ${cluster.clusterId}: ${brokers} brokers in ${zones} zones`);
  for (const b of cluster.brokers)
    console.log(`  broker ${b.id}  ${b.address}  ${b.zone}  ${b.dataDir}  metrics ${b.metricsUrl}`);
  console.log(`bootstrap servers: ${cluster.bootstrapServers}`);
  console.log(`try: kcat -b ${cluster.bootstrapServers} -L`);
  console.log(`metrics (Prometheus): ${cluster.brokers.map((b) => b.metricsUrl).join(' ')}`);
  const stop = async () => {
    console.log('stopping brokers (controlled shutdown)…');
    await cluster.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  console.error((err as Error).message);
  process.exit(1);
});
