/**
 * Broker metrics benchmark (on demand, not part of `npm test`):
 *  1. Produce throughput with metrics on vs off: two standalone brokers side by side, one with
 *     `fjord.metrics.listen` (scraped every 5 s meanwhile), one without; the native load generator
 *     produces to them in alternating rounds (on/off, then off/on, …) so the machine's load drifts
 *     onto both alike. Two workloads: big batches (linger 5 ms) and small requests (linger 0).
 *  2. Scrape duration of a broker holding 4,000 partitions (cap lifted so every partition has its
 *     series) with one consumer group committed on all of them: p50/p99 of several scrapes.
 * Run: `npm run build && npx tsx test/bench/metrics.bench.ts` (needs gcc and librdkafka-dev).
 * ROUNDS (default 4), COUNT (messages per round, default 1,000,000) and SCRAPES (default 30).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { TrafficMetrics } from '../../packages/broker/src/metrics/TrafficMetrics.js';

const root = resolve(import.meta.dirname, '../..');
const execFileAsync = promisify(execFile);
const out = join(root, '.tmp/bench');
mkdirSync(out, { recursive: true });
const loadgen = join(out, 'loadgen');
execFileSync('gcc', ['-O2', '-o', loadgen, join(root, 'test/bench/loadgen.c'), '-lrdkafka', '-lpthread']);

const ROUNDS = Number(process.env.ROUNDS ?? 4);
const COUNT = Number(process.env.COUNT ?? 1_000_000);
const SCRAPES = Number(process.env.SCRAPES ?? 30);
const dirs: string[] = [];
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

/** CPU seconds (user + system) a process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

async function startBroker(
  overrides: Record<string, string>,
): Promise<{ port: number; metricsPort?: number; pid: number }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'fjord-metrics-bench-'));
  dirs.push(dir);
  const metricsPort = 'fjord.metrics.listen' in overrides ? await freePort() : undefined;
  const all = {
    ...overrides,
    ...(metricsPort ? { 'fjord.metrics.listen': `127.0.0.1:${metricsPort}` } : {}),
  };
  const args = [join(root, 'apps/broker/dist/main.js'), '--listen', `127.0.0.1:${port}`, '--data-dir', dir];
  for (const [k, v] of Object.entries(all)) args.push('--override', `${k}=${v}`);
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FJORD_LOG_LEVEL: 'warn' },
  });
  children.push(child);
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  for (let i = 0; i < 600; i++) {
    if (await reachable(port)) return { port, metricsPort, pid: child.pid! };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('broker did not start');
}

/** Kills the most recently started broker and removes its data. */
function stopLast(): void {
  children.pop()?.kill('SIGKILL');
  const d = dirs.pop();
  if (d) rmSync(d, { recursive: true, force: true });
}

function reachable(port: number): Promise<boolean> {
  return new Promise((res) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      res(true);
    });
    socket.on('error', () => res(false));
  });
}

function scrapeText(port: number): Promise<string> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => {
        body += d;
      });
      r.on('end', () => res(body));
    });
    req.on('error', rej);
    req.end();
  });
}

function scrape(port: number): Promise<{ ms: number; bytes: number; series: number }> {
  const t0 = performance.now();
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => {
        body += d;
      });
      r.on('end', () =>
        res({
          ms: performance.now() - t0,
          bytes: body.length,
          series: body.split('\n').filter((l) => l && !l.startsWith('#')).length,
        }),
      );
    });
    req.on('error', rej);
    req.end();
  });
}

/** The same load generator run, asynchronously (two at once in the paired rounds). */
async function produceAsync(port: number, topic: string, count: number, conf?: string): Promise<number> {
  const { stdout } = await execFileAsync(
    loadgen,
    ['produce', `127.0.0.1:${port}`, topic, String(count), '100', '1'],
    { env: { ...process.env, ...(conf ? { LOADGEN_CONF: conf } : {}) }, encoding: 'utf8' },
  );
  const r = JSON.parse(stdout) as { msgs_per_s: number; failed: number };
  if (r.failed) throw new Error(`${r.failed} deliveries failed`);
  return r.msgs_per_s;
}

function produce(
  port: number,
  topic: string,
  count: number,
  conf?: string,
): { msgsPerS: number; p99: number } {
  const json = execFileSync(loadgen, ['produce', `127.0.0.1:${port}`, topic, String(count), '100', '1'], {
    env: { ...process.env, ...(conf ? { LOADGEN_CONF: conf } : {}) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const r = JSON.parse(json) as { msgs_per_s: number; p99_ms: number; failed: number };
  if (r.failed) throw new Error(`${r.failed} deliveries failed`);
  return { msgsPerS: r.msgs_per_s, p99: r.p99_ms };
}

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const median = (xs: number[]) => pct(xs, 0.5);

try {
  // ---- 0. What metrics add per produce request on the broker's request path, timed in isolation
  // (deterministic, unlike throughput on a shared machine): the request timing and count, and the
  // per-topic produce counters, for a one-partition request.
  {
    const traffic = new TrafficMetrics();
    const n = 5_000_000;
    let sink = 0;
    for (let round = 0; round < 2; round++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        const started = performance.now();
        traffic.produced('bench-topic', 130, 16_000);
        traffic.request(0, performance.now() - started, 0);
        sink += traffic.total.messagesIn;
      }
      const nsPerRequest = ((performance.now() - t0) * 1e6) / n;
      if (round === 1)
        console.log(`metrics bookkeeping per produce request: ${nsPerRequest.toFixed(0)} ns (${sink > 0})`);
    }
  }

  // ---- 1. throughput, metrics on vs off. A fresh broker per round, on and off alternating (and
  // which goes first alternating too), so neither side keeps a process that happened to be luckier
  // (memory layout, which core); a warm-up produce before each measured one.
  const workloads = [
    { name: 'produce 100 B, acks=1, linger 5 ms (big batches)', conf: undefined, count: COUNT },
    {
      name: 'produce 100 B, acks=1, linger 0, batch.size 16 KiB (many small requests)',
      conf: 'linger.ms=0;batch.size=16384',
      count: Math.floor(COUNT / 2),
    },
  ];
  console.log(`rounds ${ROUNDS}, load before: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
  for (const w of workloads) {
    if (process.env.ONLY && !w.name.includes(process.env.ONLY)) continue;
    const results = { on: [] as number[], off: [] as number[] };
    // Broker CPU per million messages: less disturbed than throughput by others' load on the machine.
    const cpu = { on: [] as number[], off: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      for (const which of order) {
        const b = await startBroker(
          which === 'on' ? { 'num.partitions': '1', 'fjord.metrics.listen': '' } : { 'num.partitions': '1' },
        );
        // Scraped every 5 s meanwhile, harsher than Prometheus' usual 15-60 s.
        const scraper =
          b.metricsPort !== undefined
            ? setInterval(() => void scrape(b.metricsPort!).catch(() => {}), 5000)
            : undefined;
        produce(b.port, 'warm', Math.floor(w.count / 4), w.conf);
        const produces = async () =>
          b.metricsPort === undefined
            ? 0
            : Number(
                /kafka_network_requestmetrics_requests_total\{request="Produce"\} (\d+)/.exec(
                  (await scrapeText(b.metricsPort)) ?? '',
                )?.[1] ?? 0,
              );
        const req0 = await produces();
        const cpu0 = cpuSeconds(b.pid);
        const { msgsPerS } = produce(b.port, 'measured', w.count, w.conf);
        const cpuUsed = cpuSeconds(b.pid) - cpu0;
        const cpuPerM = (cpuUsed * 1e6) / w.count;
        const requests = (await produces()) - req0;
        if (requests > 0)
          console.log(
            `    ${requests} produce requests (${(w.count / requests).toFixed(0)} msgs each), broker CPU ${((cpuUsed * 1e6) / requests).toFixed(1)} µs per request`,
          );
        clearInterval(scraper);
        stopLast();
        results[which].push(msgsPerS);
        cpu[which].push(Number(cpuPerM.toFixed(3)));
        console.log(
          `  ${w.name} round ${r + 1} metrics ${which}: ${msgsPerS} msgs/s, broker CPU ${cpuPerM.toFixed(3)} s per million`,
        );
      }
    }
    const mOn = median(results.on);
    const mOff = median(results.off);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `| ${w.name} | ${results.on.join(', ')} | ${results.off.join(', ')} | ${mOn} | ${mOff} | ${(((mOff - mOn) / mOff) * 100).toFixed(1)} % (means: ${(((mean(results.off) - mean(results.on)) / mean(results.off)) * 100).toFixed(1)} %) |`,
    );
    const cOn = median(cpu.on);
    const cOff = median(cpu.off);
    console.log(
      `| ${w.name}: broker CPU s per million msgs | ${cpu.on.join(', ')} | ${cpu.off.join(', ')} | ${cOn} | ${cOff} | ${(((cOn - cOff) / cOff) * 100).toFixed(1)} % more CPU (means: ${(((mean(cpu.on) - mean(cpu.off)) / mean(cpu.off)) * 100).toFixed(1)} %) |`,
    );
  }
  console.log(`load after: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);

  // ---- 1b. Paired: an "on" and an "off" broker loaded at the same time by one load generator
  // each, so whatever else the machine does hits both alike; fresh brokers every round.
  for (const w of workloads) {
    if (process.env.ONLY && !w.name.includes(process.env.ONLY)) continue;
    const ratios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const on = await startBroker({ 'num.partitions': '1', 'fjord.metrics.listen': '' });
      const off = await startBroker({ 'num.partitions': '1' });
      const scraper = setInterval(() => void scrape(on.metricsPort!).catch(() => {}), 5000);
      await Promise.all([
        produceAsync(on.port, 'warm', Math.floor(w.count / 4), w.conf),
        produceAsync(off.port, 'warm', Math.floor(w.count / 4), w.conf),
      ]);
      const [a, b] = await Promise.all([
        produceAsync(on.port, 'measured', w.count, w.conf),
        produceAsync(off.port, 'measured', w.count, w.conf),
      ]);
      clearInterval(scraper);
      stopLast();
      stopLast();
      ratios.push(Number((a / b).toFixed(3)));
      console.log(`  paired ${w.name} round ${r + 1}: on ${a} msgs/s, off ${b} msgs/s`);
    }
    const mean = ratios.reduce((x, y) => x + y, 0) / ratios.length;
    console.log(
      `| paired: ${w.name} | on/off per round: ${ratios.join(', ')} | median ${median(ratios)} | mean ${mean.toFixed(3)} |`,
    );
  }
  console.log(`load after paired: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);

  // ---- 2. scrape duration with 4,000 partitions
  if (SCRAPES > 0) {
    const big = await startBroker({
      'fjord.metrics.listen': '',
      'fjord.metrics.partition.series.max': '100000',
    });
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${big.port}`],
      clientId: 'bench',
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    const topics = Array.from({ length: 8 }, (_, i) => `wide-${i}`);
    const t0 = Date.now();
    for (const topic of topics)
      await admin.createTopics({
        topics: [{ topic, numPartitions: 500 }],
        timeout: 120_000,
        waitForLeaders: false,
      });
    console.log(`created 4,000 partitions in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (const topic of topics)
      await admin.setOffsets({
        groupId: 'bench-group',
        topic,
        partitions: Array.from({ length: 500 }, (_, partition) => ({ partition, offset: '0' })),
      });
    await admin.disconnect();
    const times: number[] = [];
    let sample = { ms: 0, bytes: 0, series: 0 };
    await scrape(big.metricsPort!); // first scrape warms up
    const scrapeCpu0 = cpuSeconds(big.pid);
    for (let i = 0; i < SCRAPES; i++) {
      sample = await scrape(big.metricsPort!);
      times.push(sample.ms);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Includes the broker's idle ticking over the pauses between scrapes (a few ms per second).
    const cpuMsPerScrape = ((cpuSeconds(big.pid) - scrapeCpu0) * 1000) / SCRAPES;
    console.log(`broker CPU per scrape (incl. idle between them): ${cpuMsPerScrape.toFixed(1)} ms`);
    console.log(
      `| scrape, 4,000 partitions + 4,000 group offsets | ${SCRAPES} | ${median(times).toFixed(1)} | ${pct(times, 0.99).toFixed(1)} | ${Math.max(...times).toFixed(1)} | ${sample.series} | ${(sample.bytes / 1024).toFixed(0)} KiB |`,
    );
    console.log(`load at the end: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
  }
} finally {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
