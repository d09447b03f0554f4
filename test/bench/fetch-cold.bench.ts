/**
 * Does a fetch of cold data (not in the page cache) stall the broker's other connections?
 * One consumer (test/bench/loadgen.c, librdkafka) reads a topic from the beginning after its
 * segment files were dropped from the page cache (posix_fadvise DONTNEED through `dd iflag=nocache`),
 * while a probe on its own connection sends ApiVersions requests one after another and records
 * each round trip. A broker that reads segments synchronously on its event loop answers the probe
 * only between reads; one that reads cold data in the thread pool answers it at once.
 * Brokers are compared in the same run, rounds alternating (same format as run-fetch-bench.sh):
 *   FETCH_BENCH_BROKERS="base=/other/tree new=." npx tsx test/bench/fetch-cold.bench.ts
 * Env: FETCH_BENCH_ROUNDS (3), FETCH_BENCH_COUNT_1K (500000 records of 1 KiB).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const ROUNDS = Number(process.env.FETCH_BENCH_ROUNDS ?? 3);
const COUNT = Number(process.env.FETCH_BENCH_COUNT_1K ?? 500_000);
const LOADGEN = join(ROOT, '.tmp/bench/loadgen');
const TOPIC = 'cold-1k';

interface Broker {
  readonly name: string;
  readonly process: ChildProcess;
  readonly bootstrap: string;
  readonly port: number;
  readonly dataDir: string;
}

function startBroker(spec: string, port: number): Broker {
  const [name, rest] = spec.split('=', 2) as [string, string];
  const [tree, ...envs] = rest.split(':');
  const dataDir = mkdtempSync('/tmp/fjord-cold-bench-');
  const env: NodeJS.ProcessEnv = { ...process.env, FJORD_LOG_LEVEL: 'warn' };
  for (const e of envs) {
    const [k, v] = e.split('=', 2) as [string, string];
    env[k] = v;
  }
  const child = spawn(
    'node',
    [
      'apps/broker/dist/main.js',
      '--listen',
      `127.0.0.1:${port}`,
      '--data-dir',
      dataDir,
      '--override',
      'num.partitions=1',
      // Most data in rolled segments, as on a broker that has been running a while.
      '--override',
      'log.segment.bytes=67108864',
    ],
    { cwd: resolve(ROOT, tree!), env, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return { name, process: child, bootstrap: `127.0.0.1:${port}`, port, dataDir };
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise<boolean>((done) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        done(true);
      });
      s.on('error', () => done(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`broker on port ${port} did not start`);
}

function loadgen(...args: string[]): Promise<Record<string, number>> {
  return new Promise((done, fail) => {
    const child = spawn(LOADGEN, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('exit', (code) =>
      code === 0 ? done(JSON.parse(out.trim().split('\n').pop()!)) : fail(new Error(`loadgen ${code}`)),
    );
  });
}

/** Drops the topic's segment files from the page cache (after writing back what is dirty). */
function evict(broker: Broker): void {
  const dir = join(broker.dataDir, `${TOPIC}-0`);
  for (const f of readdirSync(dir)) {
    const path = join(dir, f);
    execFileSync('sync', [path]);
    execFileSync('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none']);
  }
}

/** ApiVersions v0 round trips, one at a time, until `stop()`; returns each round trip in ms. */
function probe(port: number): { stop(): Promise<number[]> } {
  const times: number[] = [];
  let stopping = false;
  let finished: () => void = () => {};
  const done = new Promise<void>((r) => {
    finished = r;
  });
  const request = Buffer.alloc(14);
  request.writeInt32BE(10, 0);
  request.writeInt16BE(18, 4); // ApiVersions
  request.writeInt16BE(0, 6);
  request.writeInt32BE(1, 8);
  request.writeInt16BE(-1, 12); // null client id
  const socket: Socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let pending = Buffer.alloc(0);
  let sent = 0n;
  const send = () => {
    if (stopping) {
      socket.end();
      finished();
      return;
    }
    sent = process.hrtime.bigint();
    socket.write(request);
  };
  socket.on('connect', send);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      pending = pending.subarray(4 + pending.readInt32BE(0));
      times.push(Number(process.hrtime.bigint() - sent) / 1e6);
      send();
    }
  });
  return {
    async stop() {
      stopping = true;
      await done;
      return times;
    },
  };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const median = (xs: number[]) => quantile(xs, 0.5);

const specs = (process.env.FETCH_BENCH_BROKERS ?? 'this=.').split(/\s+/).filter(Boolean);
const brokers = specs.map((s, i) => startBroker(s, 19_981 + i));
const results = new Map<string, { mbs: number[]; p50: number[]; p99: number[]; max: number[] }>();
try {
  for (const b of brokers) {
    await waitForPort(b.port);
    await loadgen('produce', b.bootstrap, TOPIC, String(COUNT), '1024', '1');
    results.set(b.name, { mbs: [], p50: [], p99: [], max: [] });
  }
  console.error(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? brokers : [...brokers].reverse();
    for (const b of order) {
      evict(b);
      const p = probe(b.port);
      const consumed = await loadgen('consume', b.bootstrap, TOPIC, String(COUNT));
      const rtts = await p.stop();
      const r = results.get(b.name)!;
      r.mbs.push(consumed.mb_per_s!);
      r.p50.push(quantile(rtts, 0.5));
      r.p99.push(quantile(rtts, 0.99));
      r.max.push(Math.max(...rtts));
      console.error(
        `round ${round + 1} ${b.name}: consume ${consumed.mb_per_s} MB/s; probe ${rtts.length} round trips, ` +
          `p50 ${quantile(rtts, 0.5).toFixed(2)} ms, p99 ${quantile(rtts, 0.99).toFixed(2)} ms, max ${Math.max(...rtts).toFixed(1)} ms`,
      );
    }
  }
  console.error(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `| broker | cold consume MB/s | probe p50 ms | probe p99 ms | probe max ms | (medians of ${ROUNDS} rounds)`,
  );
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, r] of results)
    console.log(
      `| ${name} | ${median(r.mbs).toFixed(1)} | ${median(r.p50).toFixed(2)} | ${median(r.p99).toFixed(2)} | ${median(r.max).toFixed(1)} |`,
    );
} finally {
  for (const b of brokers) b.process.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1_000));
  for (const b of brokers) rmSync(b.dataDir, { recursive: true, force: true });
}
