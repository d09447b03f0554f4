/**
 * Control-plane benchmark: create→ready time of 3-broker instances over 3 zones, and API throughput
 * and latency of a read route (GET instance) and a write route (POST sub-account: a row and
 * an audit event) at fixed concurrency. The API runs as its own process (one core: Node's event
 * loop); autocannon runs in this one. Run: `npx tsx test/bench/control-plane.bench.ts`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { hashSecret, newSecret } from '@fjord/api';
import { newId } from '@fjord/contracts';
import { createPrismaClient } from '@fjord/db';
import { RestClient } from '@fjord/test-support/api';
import { createTestDatabase } from '@fjord/test-support/database';
import { testQueuePrefix } from '@fjord/test-support/redis';
import { waitForOperation } from '@fjord/test-support/service';
import { buildZoneAgent } from '@fjord/zone-agent';
import autocannon from 'autocannon';

const root = resolve(import.meta.dirname, '../..');
const CONCURRENCY = 32;
const SECONDS = 10;
const db = await createTestDatabase();
const queue = testQueuePrefix();
const dataDir = mkdtempSync(join(tmpdir(), 'fjord-bench-'));
const env = {
  ...process.env,
  DATABASE_URL: db.url,
  REDIS_URL: 'redis://127.0.0.1:6379',
  FJORD_QUEUE_PREFIX: queue.prefix,
  FJORD_JWT_KEYS: `k1:${randomBytes(32).toString('hex')}`,
  FJORD_ADMIN_SECRET: randomBytes(32).toString('hex'),
  FJORD_AGENT_SECRET: 'bench-agent-secret',
  FJORD_API_PORT: '18181',
  FJORD_LOG_LEVEL: 'warn',
  FJORD_RATE_LIMIT_RPS: '1000000',
  FJORD_RATE_LIMIT_BURST: '1000000',
};
const api = spawn(
  'node',
  [
    ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', '/tmp/apiprof'] : []),
    join(root, 'apps/api/dist/main.js'),
  ],
  { env, stdio: 'inherit' },
);
const worker = spawn('node', [join(root, 'apps/worker/dist/main.js')], { env, stdio: 'inherit' });
const agents = await Promise.all(
  ['az-1', 'az-2', 'az-3'].map(async (zone) => {
    const a = await buildZoneAgent({
      zone,
      host: '127.0.0.1',
      port: 0,
      dataDir: join(dataDir, zone),
      secret: env.FJORD_AGENT_SECRET,
    });
    return { zone, ...a, url: await a.app.listen({ host: '127.0.0.1', port: 0 }) };
  }),
);
const base = `http://127.0.0.1:${env.FJORD_API_PORT}`;
for (let i = 0; i < 100; i++) {
  if ((await fetch(`${base}/readyz`).catch(() => undefined))?.ok) break;
  await new Promise((r) => setTimeout(r, 100));
}

try {
  const prisma = createPrismaClient(db.url);
  const opSecret = newSecret();
  const opId = newId('operatorKey');
  await prisma.operatorKey.create({ data: { id: opId, name: 'bench', secretHash: hashSecret(opSecret) } });
  await prisma.$disconnect();
  const operator = await new RestClient(base).login(opId, opSecret);
  for (const a of agents)
    await operator.call('PUT', `/v1/zones/${a.zone}`, { capacity: 16, agentUrl: a.url });
  const account = (await operator.call('POST', '/v1/accounts', { name: 'bench' })).body;
  const key = (await operator.call('POST', `/v1/accounts/${account.id}/api-keys`, {})).body;
  const client = await new RestClient(base).login(key.id, key.secret);

  const readyMs: number[] = [];
  let instanceId = '';
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = await client.call('POST', '/v1/instances', {
      name: `bench-${i}`,
      zones: ['az-1', 'az-2', 'az-3'],
    });
    const op = await waitForOperation(client, r.body.operation.id);
    if (op.status !== 'succeeded') throw new Error(JSON.stringify(op.error));
    readyMs.push(performance.now() - t0);
    instanceId = r.body.instance.id;
  }
  console.log(`create→ready (3 brokers, 3 zones): ${readyMs.map((m) => m.toFixed(0)).join(', ')} ms`);

  // `path` is appended to the base URL here (autocannon's types do not declare it).
  const cannon = async (title: string, opts: Partial<autocannon.Options> & { path?: string }) => {
    const r = await autocannon({
      url: `${base}${opts.path ?? '/'}`,
      connections: CONCURRENCY,
      duration: SECONDS,
      headers: { authorization: `Bearer ${client.token}`, 'content-type': 'application/json' },
      ...opts,
    });
    console.log(
      `${title}: ${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ` +
        `${r.requests.total} requests, non-2xx ${r.non2xx}, errors ${r.errors}`,
    );
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${title}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  };
  await cannon(`GET /v1/instances/{id}`, { path: `/v1/instances/${instanceId}`, method: 'GET' });
  // A write that creates a row and its audit event in one transaction; names must be unique.
  let n = 0;
  await cannon('POST /v1/sub-accounts', {
    path: '/v1/sub-accounts',
    method: 'POST',
    requests: [
      { method: 'POST', setupRequest: (req) => ({ ...req, body: JSON.stringify({ name: `team-${n++}` }) }) },
    ],
  });
} finally {
  api.kill('SIGTERM');
  worker.kill('SIGTERM');
  for (const a of agents) {
    for (const b of await a.processes.list()) await a.processes.remove(b.key);
    await a.app.close();
  }
  await new Promise((r) => setTimeout(r, 500));
  await db.drop();
  await queue.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
}
