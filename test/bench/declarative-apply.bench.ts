/**
 * `fjord apply` from nothing of one instance (1 broker, the smallest shape) with N topics, U SASL
 * users and A ACLs, then the no-change `fjord plan` after it, both timed as a user sees them (the
 * built CLI against the real API, worker and zone agent on PostgreSQL and Redis).
 * Run: `npx tsx test/bench/declarative-apply.bench.ts` (FJORD_BENCH_TOPICS=50, FJORD_BENCH_USERS=20,
 * FJORD_BENCH_ACLS=100, FJORD_BENCH_CONCURRENCY=8: actions in flight).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestService } from '@fjord/test-support/service';

const TOPICS = Number(process.env.FJORD_BENCH_TOPICS ?? 50);
const USERS = Number(process.env.FJORD_BENCH_USERS ?? 20);
const ACLS = Number(process.env.FJORD_BENCH_ACLS ?? 100);
const CONCURRENCY = process.env.FJORD_BENCH_CONCURRENCY ?? '8';
const CLI = join(import.meta.dirname, '../../apps/cli/dist/main.js');
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function fileOf(): string {
  const topics = Array.from({ length: TOPICS }, (_, i) => `      - { name: t${i}, partitions: 1 }`);
  const users = Array.from(
    { length: USERS },
    (_, i) => `      - { name: u${i}, password: "\${env:BENCH_PASSWORD}" }`,
  );
  const ops = ['read', 'write', 'describe', 'create', 'delete'];
  const acls = Array.from(
    { length: ACLS },
    (_, i) =>
      `      - { resourceType: topic, resourceName: t${i % TOPICS}, principal: "User:u${i % USERS}", operation: ${ops[Math.floor(i / TOPICS) % ops.length]} }`,
  );
  return [
    'instances:',
    '  - name: bench',
    '    zones: [az-1]',
    '    brokerCount: 1',
    '    spec: { diskGiB: 1 }',
    '    defaultReplicationFactor: 1',
    '    topics:',
    ...topics,
    '    users:',
    ...users,
    '    acls:',
    ...acls,
    '',
  ].join('\n');
}

const s = await startTestService(1);
const dir = mkdtempSync(join(tmpdir(), 'fjord-bench-cli-'));
try {
  const tenant = await s.t.tenant('apply-bench');
  const env = {
    ...process.env,
    FJORD_CONFIG: join(dir, 'credentials.json'),
    BENCH_PASSWORD: 'bench-password-1',
  };
  const file = join(dir, 'fjord.yaml');
  writeFileSync(file, fileOf());
  const fjord = (...args: string[]) =>
    new Promise<{ ms: number; code: number; stdout: string; stderr: string }>((resolve) => {
      const t0 = performance.now();
      execFile(
        process.execPath,
        [CLI, ...args],
        { env, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) =>
          resolve({
            ms: performance.now() - t0,
            code: err ? ((err as { code?: number }).code ?? 1) : 0,
            stdout,
            stderr,
          }),
      );
    });
  const login = await fjord('login', '--api', s.t.api.url, '--key', tenant.keyId, '--secret', tenant.secret);
  if (login.code !== 0) throw new Error(login.stderr);
  const loadBefore = load();
  const apply = await fjord('apply', '-f', file, '--auto-approve', '--concurrency', CONCURRENCY);
  if (apply.code !== 0) throw new Error(`apply: ${apply.stderr.slice(-2000)}`);
  const plans: number[] = [];
  for (let i = 0; i < 3; i++) {
    const p = await fjord('plan', '-f', file, '--detailed-exitcode');
    if (p.code !== 0) throw new Error(`no-change plan exited ${p.code}: ${p.stdout.slice(-2000)}`);
    plans.push(p.ms);
  }
  const actions = 1 + TOPICS + USERS + ACLS;
  console.log(`date ${new Date().toISOString()}, load before ${loadBefore}, after ${load()}`);
  console.log(`| what | actions | wall s |`);
  console.log(`| --- | --: | --: |`);
  console.log(
    `| apply from nothing (concurrency ${CONCURRENCY}) | ${actions} | ${(apply.ms / 1000).toFixed(1)} |`,
  );
  console.log(`| no-change plan (3 runs) | 0 | ${plans.map((ms) => (ms / 1000).toFixed(2)).join(', ')} |`);
} finally {
  await s.close();
  rmSync(dir, { recursive: true, force: true });
}
