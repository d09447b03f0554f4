/**
 * REST monitoring query latency: GET /v1/instances/{id}/metrics/{metric} end to end (JWT, access
 * check, PromQL built, Prometheus's query_range, series mapped), p50/p99 over sequential requests,
 * against a real Prometheus holding a few minutes of an instance's series. The API runs in this
 * process, so the client's own work is in the figures too.
 * Run: `npx tsx test/bench/monitoring-query.bench.ts` (BENCH_QUERIES=N per metric, default 200).
 */
import { execFileSync } from 'node:child_process';
import { eventually, startMonitoredService } from '@fjord/test-support/monitoring';
import { waitForOperation } from '@fjord/test-support/service';

const N = Number(process.env.BENCH_QUERIES ?? 200);
const s = await startMonitoredService(1);
try {
  const { client } = await s.t.tenant('bench');
  const created = await client.call('POST', '/v1/instances', {
    name: 'bench',
    zones: ['az-1'],
    brokerCount: 1,
  });
  const id = created.body.instance.id as string;
  await waitForOperation(client, created.body.operation.id);
  const topic = await client.call('POST', `/v1/instances/${id}/topics`, { name: 'load', partitions: 50 });
  await waitForOperation(client, topic.body.operation.id);
  const ins = (await client.call('GET', `/v1/instances/${id}`)).body;
  const bootstrap = ins.bootstrapServers.find((b: { route: string }) => b.route === 'internal').servers;
  // A minute of traffic and a group 1,000 messages behind, scraped every second.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline)
    execFileSync('kcat', ['-b', bootstrap, '-t', 'load', '-P'], {
      input: `${Array(1000).fill('m'.repeat(100)).join('\n')}\n`,
    });
  execFileSync('kcat', [
    '-b',
    bootstrap,
    '-G',
    'bench-group',
    '-X',
    'auto.offset.reset=earliest',
    '-c',
    '1000',
    '-q',
    'load',
  ]);
  await eventually('lag charted', 60_000, async () => {
    const r = await client.call(
      'GET',
      `/v1/instances/${id}/metrics/group.lag?group=bench-group&step=5&from=${new Date(Date.now() - 120_000).toISOString()}`,
    );
    return r.body.series?.length ? true : undefined;
  });
  const from = new Date(Date.now() - 300_000).toISOString();
  const queries = [
    `instance.bytes_in?from=${from}&step=5`,
    `topic.messages_in?from=${from}&step=5`,
    `partition.log_end_offset?topic=load&from=${from}&step=5`,
    `group.lag?group=bench-group&from=${from}&step=5`,
  ];
  console.log(`| query (${N} sequential requests, 5-minute range, step 5 s) | series | p50 ms | p99 ms |`);
  console.log('|---|---:|---:|---:|');
  for (const q of queries) {
    const times: number[] = [];
    let series = 0;
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      const r = await client.call('GET', `/v1/instances/${id}/metrics/${q}`);
      times.push(performance.now() - t0);
      if (r.status !== 200) throw new Error(`${q}: ${r.status} ${JSON.stringify(r.body)}`);
      series = r.body.series.length;
    }
    times.sort((a, b) => a - b);
    const pct = (p: number) =>
      times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!.toFixed(1);
    console.log(`| ${q.split('?')[0]} | ${series} | ${pct(50)} | ${pct(99)} |`);
  }
} finally {
  await s.close();
}
