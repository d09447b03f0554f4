/**
 * Produce and consume over a managed instance's public SASL_SSL route against its internal
 * PLAINTEXT route, in the same run: a 3-broker instance over 3 zones (API, worker, zone agents),
 * a SCRAM-SHA-512 user with ACLs made over REST, and the librdkafka load generator (loadgen.c)
 * producing (acks=all) then consuming 100 B and 1 KiB records, one fresh topic per run (1 partition,
 * 3 replicas, min.insync.replicas 2). Rounds alternate which route goes first; the table shows
 * medians. Broker CPU per message is the three broker processes' utime+stime (/proc/<pid>/stat)
 * over the run, divided by the messages. The instance's bandwidth spec is the maximum, so its quota
 * does not bind.
 * Run: `npx tsx test/bench/managed-tls.bench.ts` (FJORD_BENCH_ROUNDS, default 5;
 * FJORD_BENCH_MESSAGES_100B, default 1000000; FJORD_BENCH_MESSAGES_1KIB, default 250000).
 * Not part of the test run.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startTestService, waitForOperation } from '@fjord/test-support/service';

const run = promisify(execFile);
const ROUNDS = Number(process.env.FJORD_BENCH_ROUNDS ?? 5);
const WORKLOADS = [
  { size: 100, count: Number(process.env.FJORD_BENCH_MESSAGES_100B ?? 1_000_000) },
  { size: 1024, count: Number(process.env.FJORD_BENCH_MESSAGES_1KIB ?? 250_000) },
] as const;
const WARMUP = 50_000;
// librdkafka 2.0 stops fetching for a while (about a second here) once its local queue holds queued.min.messages
// (default 100,000) or queued.max.messages.kbytes (64 MiB): a faster route filled it sooner and
// paid that pause, which measured the client's queue rather than the route. The whole topic fits.
const CONSUMER_QUEUE = 'queued.min.messages=10000000;queued.max.messages.kbytes=2097151';
const ROUTES = ['internal', 'public'] as const;
type Route = (typeof ROUTES)[number];
const USER = 'bench';
const PASSWORD = 'bench-secret-password';
// Seconds of a clock tick in /proc/<pid>/stat (USER_HZ; 100 on Linux x86).
const TICK = 1 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

const ROOT = resolve(import.meta.dirname, '../..');
const LOADGEN = join(ROOT, '.tmp/bench/loadgen');
mkdirSync(join(ROOT, '.tmp/bench'), { recursive: true });
execFileSync('gcc', ['-O2', '-o', LOADGEN, join(ROOT, 'test/bench/loadgen.c'), '-lrdkafka', '-lpthread']);

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadBefore = load();
const startedAt = new Date().toISOString();

interface Measure {
  mbPerS: number;
  msgsPerS: number;
  p50Ms?: number;
  cpuUsPerMsg: number;
  recordsPerRequest: number;
  /** Consume only: loadgen's own figure, from the first record on. */
  firstRecordMbPerS?: number;
}
// "mode/size/route" → one Measure per round
const results = new Map<string, Measure[]>();
let idleCpuMsPerS = Number.NaN;
const key = (mode: string, size: number, route: Route) => `${mode}/${size}/${route}`;

const s = await startTestService(3);
try {
  const { client } = await s.t.tenant('tls-bench');
  const succeeded = async (opId: string, what: string) => {
    const op = await waitForOperation(client, opId, 300_000);
    if (op.status !== 'succeeded') throw new Error(`${what}: ${JSON.stringify(op.error)}`);
  };
  const created = await client.call('POST', '/v1/instances', {
    name: 'tls-bench',
    zones: ['az-1', 'az-2', 'az-3'],
    brokerCount: 3,
    // The bandwidth spec is a quota on produce in and fetch out (default 40 MB/s): at the maximum
    // it does not bind, so the routes are measured rather than the quota.
    spec: { bandwidthMBps: 10_000, diskGiB: 100, partitionLimit: 400 },
  });
  if (created.status !== 202) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
  const id = created.body.instance.id as string;
  await succeeded(created.body.operation.id, 'create');
  const user = await client.call('POST', `/v1/instances/${id}/users`, { name: USER, password: PASSWORD });
  await succeeded(user.body.operation.id, 'user');
  for (const [resourceType, resourceName, patternType, operation] of [
    ['topic', 'bench-', 'prefixed', 'all'],
    ['group', '*', 'literal', 'read'],
  ] as const) {
    const acl = await client.call('POST', `/v1/instances/${id}/acls`, {
      resourceType,
      resourceName,
      patternType,
      principal: `User:${USER}`,
      operation,
    });
    await succeeded(acl.body.operation.id, `acl ${resourceType}`);
  }
  const topicOf = (size: number, route: Route, round: number) => `bench-${size}-${route}-${round}`;
  // Managed instances do not create topics on first use: all of them up front.
  const topics = ROUTES.map((r) => `bench-warmup-${r}`);
  for (const { size } of WORKLOADS)
    for (let round = 1; round <= ROUNDS; round++)
      for (const route of ROUTES) topics.push(topicOf(size, route, round));
  for (const name of topics) {
    const topic = await client.call('POST', `/v1/instances/${id}/topics`, {
      name,
      partitions: 1,
      replicationFactor: 3,
      configs: { 'min.insync.replicas': '2' },
    });
    await succeeded(topic.body.operation.id, `topic ${name}`);
  }

  const ins = (await client.call('GET', `/v1/instances/${id}`)).body;
  const caFile = join(s.dataDir, 'instance-ca.pem');
  writeFileSync(caFile, ins.caBundle);
  const servers = (route: Route) => {
    const b = ins.bootstrapServers.find((x: { route: string }) => x.route === route);
    if (!b) throw new Error(`no ${route} route in ${JSON.stringify(ins.bootstrapServers)}`);
    return b as { servers: string; securityProtocol: string };
  };
  const conf: Record<Route, string> = {
    internal: '',
    public: [
      `security.protocol=${servers('public').securityProtocol}`,
      `ssl.ca.location=${caFile}`,
      'sasl.mechanisms=SCRAM-SHA-512',
      `sasl.username=${USER}`,
      `sasl.password=${PASSWORD}`,
    ].join(';'),
  };
  console.log(
    `routes: ${ROUTES.map((r) => `${r} ${servers(r).securityProtocol} ${servers(r).servers}`).join('; ')}`,
  );

  const brokerPids: number[] = [];
  const metricsUrls: string[] = [];
  for (const a of s.agents)
    for (const b of await a.processes.list())
      if (b.instanceId === id && b.running && b.pid !== null) {
        brokerPids.push(b.pid);
        metricsUrls.push(`http://${b.host}:${b.metricsPort}/metrics`);
      }
  if (brokerPids.length !== 3) throw new Error(`expected 3 running brokers, found pids ${brokerPids}`);
  // utime + stime of the brokers, in seconds (a broker that restarted would make this wrong: checked below).
  const brokerCpu = () =>
    brokerPids.reduce((sum, pid) => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return sum + (Number(fields[11]) + Number(fields[12])) * TICK; // fields 14 and 15 of stat(5)
    }, 0);

  // Produce requests the brokers received (their Prometheus counters): records per request tell
  // how the client batched.
  const produceRequests = async () => {
    let n = 0;
    for (const url of metricsUrls) {
      const text = await (await fetch(url)).text();
      n += Number(
        /^kafka_network_requestmetrics_requests_total\{request="Produce"\} (\d+)/m.exec(text)?.[1] ?? 0,
      );
    }
    return n;
  };

  const loadgen = async (route: Route, args: string[]) => {
    const requests0 = await produceRequests();
    const cpu0 = brokerCpu();
    const { stdout } = await run(LOADGEN, args, {
      // Detects a stuck run (consume waits for every record); not a speed limit.
      timeout: 300_000,
      env: {
        ...process.env,
        LOADGEN_CONF: [conf[route], args[0] === 'consume' ? CONSUMER_QUEUE : ''].join(';'),
      },
    });
    const cpu = brokerCpu() - cpu0;
    const requests = (await produceRequests()) - requests0;
    return { out: JSON.parse(stdout.trim()) as Record<string, number>, cpu, requests };
  };

  // Warm-up (connections, JIT of the brokers' hot paths) on both routes, not measured.
  for (const route of ROUTES) {
    const topic = `bench-warmup-${route}`;
    const boot = servers(route).servers;
    const p = await loadgen(route, ['produce', boot, topic, String(WARMUP), '1024', 'all']);
    const c = await loadgen(route, ['consume', boot, topic, String(WARMUP)]);
    console.log(`warm-up ${route}: ${JSON.stringify(p.out)} ${JSON.stringify(c.out)}`);
  }
  // What the brokers spend with no client (heartbeats, replica fetch polls, metrics): in the CPU figures too.
  const idle0 = brokerCpu();
  await new Promise((r) => setTimeout(r, 5000));
  idleCpuMsPerS = ((brokerCpu() - idle0) / 5) * 1000;

  for (const { size, count } of WORKLOADS)
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? ROUTES : ([...ROUTES].reverse() as Route[]);
      for (const route of order) {
        const topic = topicOf(size, route, round);
        const boot = servers(route).servers;
        const p = await loadgen(route, ['produce', boot, topic, String(count), String(size), 'all']);
        if (p.out.delivered !== count) throw new Error(`${topic}: delivered ${p.out.delivered} of ${count}`);
        const c = await loadgen(route, ['consume', boot, topic, String(count)]);
        if (c.out.count !== count) throw new Error(`${topic}: consumed ${c.out.count} of ${count}`);
        for (const [mode, r] of [
          ['produce', p],
          ['consume', c],
        ] as const) {
          // Consume: from before connecting to the last record (loadgen's mb_per_s starts at the first
          // record, after librdkafka may have prefetched much of the topic).
          const m: Measure = {
            mbPerS: mode === 'consume' ? r.out.wall_mb_per_s! : r.out.mb_per_s!,
            msgsPerS: mode === 'consume' ? r.out.wall_msgs_per_s! : r.out.msgs_per_s!,
            cpuUsPerMsg: (r.cpu / count) * 1e6,
            recordsPerRequest: r.requests ? count / r.requests : Number.NaN,
            ...(mode === 'consume' ? { firstRecordMbPerS: r.out.mb_per_s! } : {}),
            ...(r.out.p50_ms !== undefined ? { p50Ms: r.out.p50_ms } : {}),
          };
          const k = key(mode, size, route);
          results.set(k, [...(results.get(k) ?? []), m]);
          console.log(
            `round ${round} ${mode} ${size} B ${route}: ${r.out.seconds} s, ${mode === 'consume' ? `${r.out.wall_seconds} s wall, ` : ''}` +
              `${m.msgsPerS} msgs/s, ${m.mbPerS} MB/s` +
              `${m.p50Ms !== undefined ? `, p50 ${m.p50Ms} ms` : ''}, broker CPU ${m.cpuUsPerMsg.toFixed(2)} µs/msg` +
              `${mode === 'produce' ? `, ${r.requests} produce requests` : ''}`,
          );
        }
      }
    }
  // The CPU figures are only the brokers' if none restarted during the run.
  const pidsAfter: number[] = [];
  for (const a of s.agents)
    for (const b of await a.processes.list())
      if (b.instanceId === id && b.running && b.pid !== null) pidsAfter.push(b.pid);
  if (pidsAfter.sort().join() !== [...brokerPids].sort().join())
    console.log(
      `WARNING: broker pids changed during the run (${brokerPids} → ${pidsAfter}): CPU figures are wrong`,
    );
} finally {
  await s.close();
}

const median = (xs: readonly number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const rdkafkaVersion = execFileSync('pkg-config', ['--modversion', 'rdkafka'], { encoding: 'utf8' }).trim();
console.log(
  `\nmachine: nproc ${cpus().length}, ${cpus()[0]?.model}, node ${process.version}, librdkafka ${rdkafkaVersion}`,
);
console.log(`date ${startedAt}; load average before / after: ${loadBefore} / ${load()}`);
console.log(
  `command: FJORD_BENCH_ROUNDS=${ROUNDS} FJORD_BENCH_MESSAGES_100B=${WORKLOADS[0].count} ` +
    `FJORD_BENCH_MESSAGES_1KIB=${WORKLOADS[1].count} npx tsx test/bench/managed-tls.bench.ts`,
);
console.log(
  `medians of ${ROUNDS} rounds per cell; brokers' CPU with no client: ${idleCpuMsPerS.toFixed(0)} ms/s (3 brokers together)\n`,
);
console.log(
  '| workload | PLAINTEXT MB/s | SASL_SSL MB/s | SASL_SSL / PLAINTEXT | per round | PLAINTEXT p50 ms | SASL_SSL p50 ms | ' +
    'broker CPU µs/msg PLAINTEXT / SASL_SSL | records per produce request PLAINTEXT / SASL_SSL |',
);
console.log('| --- | --: | --: | --: | --: | --: | --: | --: | --: |');
for (const mode of ['produce', 'consume'] as const)
  for (const { size, count } of WORKLOADS) {
    const plain = results.get(key(mode, size, 'internal')) ?? [];
    const tls = results.get(key(mode, size, 'public')) ?? [];
    if (!plain.length || !tls.length) continue;
    const mb = (xs: Measure[]) => median(xs.map((x) => x.mbPerS));
    const p50 = (xs: Measure[]) =>
      xs.every((x) => x.p50Ms !== undefined) ? median(xs.map((x) => x.p50Ms!)).toFixed(0) : '–';
    const cpu = (xs: Measure[]) => median(xs.map((x) => x.cpuUsPerMsg)).toFixed(2);
    const batching = (xs: Measure[]) => median(xs.map((x) => x.recordsPerRequest)).toFixed(0);
    // Paired by round (the same minutes of machine load): shows how much of the ratio is noise.
    const perRound = plain.map((p, i) => (tls[i]!.mbPerS / p.mbPerS).toFixed(2)).join(', ');
    const label = `${mode} ${size} B${mode === 'produce' ? ', acks=all' : ''} (${count.toLocaleString('en')})`;
    console.log(
      `| ${label} | ${mb(plain).toFixed(1)} | ${mb(tls).toFixed(1)} | ${(mb(tls) / mb(plain)).toFixed(2)} | ${perRound} | ` +
        `${p50(plain)} | ${p50(tls)} | ${cpu(plain)} / ${cpu(tls)} | ` +
        `${mode === 'produce' ? `${batching(plain)} / ${batching(tls)}` : '–'} |`,
    );
  }

console.log(
  '\n| consume, from the first record on (loadgen mb_per_s) | PLAINTEXT MB/s | SASL_SSL MB/s | SASL_SSL / PLAINTEXT |',
);
console.log('| --- | --: | --: | --: |');
for (const { size, count } of WORKLOADS) {
  const mb = (route: Route) =>
    median((results.get(key('consume', size, route)) ?? []).map((x) => x.firstRecordMbPerS!));
  console.log(
    `| consume ${size} B (${count.toLocaleString('en')}) | ${mb('internal').toFixed(1)} | ${mb('public').toFixed(1)} | ${(mb('public') / mb('internal')).toFixed(2)} |`,
  );
}
