/**
 * Scale-out and scale-in time against data volume: a managed instance over 3 zones holds a
 * topic (6 partitions, 3 replicas) filled with N MiB, is resized 3 → 6 brokers (replicas spread
 * onto the new ones by throttled reassignment) and back 6 → 3 (drained first), each timed from
 * the REST call to the operation's success. The worker's reassignment throttle is
 * FJORD_REASSIGNMENT_THROTTLE_BYTES (default 50 MB/s per broker and direction).
 * Run: `npx tsx test/bench/scale-time.bench.ts` (FJORD_BENCH_VOLUMES_MIB, default "0,64,256").
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { startTestService, waitForOperation } from '@fjord/test-support/service';

const VOLUMES = (process.env.FJORD_BENCH_VOLUMES_MIB ?? '0,64,256').split(',').map(Number);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const loadBefore = load();
const rows: string[] = [];

const s = await startTestService(3);
try {
  const { client } = await s.t.tenant('scale-bench');
  const succeeded = async (opId: string, what: string) => {
    const op = await waitForOperation(client, opId, 1_800_000);
    if (op.status !== 'succeeded') throw new Error(`${what}: ${JSON.stringify(op.error)}`);
  };
  for (const mib of VOLUMES) {
    const created = await client.call('POST', '/v1/instances', {
      name: `scale-${mib}`,
      zones: ['az-1', 'az-2', 'az-3'],
      brokerCount: 3,
      spec: { bandwidthMBps: 1000, diskGiB: 100, partitionLimit: 400 },
    });
    const id = created.body.instance.id as string;
    await succeeded(created.body.operation.id, 'create');
    const bootstrap = (await client.call('GET', `/v1/instances/${id}`)).body.bootstrapServers.find(
      (b: { route: string }) => b.route === 'internal',
    ).servers as string;
    const topic = await client.call('POST', `/v1/instances/${id}/topics`, {
      name: 'data',
      partitions: 6,
      replicationFactor: 3,
    });
    await succeeded(topic.body.operation.id, 'topic');
    // N MiB of 1 KiB records, in 64 MiB rounds so the input stays small.
    const line = `${'x'.repeat(1023)}\n`;
    for (let left = mib; left > 0; left -= 64)
      execFileSync('kcat', ['-b', bootstrap, '-t', 'data', '-P', '-X', 'linger.ms=50', '-X', 'acks=all'], {
        input: line.repeat(Math.min(64, left) * 1024),
        maxBuffer: 128 * 1024 * 1024,
      });
    const timed = async (brokerCount: number) => {
      const started = Date.now();
      const r = await client.call('POST', `/v1/instances/${id}/resize`, { brokerCount });
      if (r.status !== 202)
        throw new Error(`resize to ${brokerCount}: ${r.status} ${JSON.stringify(r.body)}`);
      await succeeded(r.body.operation.id, `resize to ${brokerCount}`);
      return Date.now() - started;
    };
    const out = await timed(6);
    const back = await timed(3);
    console.log(`${mib} MiB: 3 → 6 ${out} ms, 6 → 3 ${back} ms`);
    rows.push(`| ${mib} MiB × 3 replicas | ${(out / 1000).toFixed(1)} | ${(back / 1000).toFixed(1)} |`);
    const del = await client.call('DELETE', `/v1/instances/${id}`);
    await succeeded(del.body.operation.id, 'delete');
  }
} finally {
  await s.close();
}
console.log(`\ndate ${new Date().toISOString()}; load average before / after: ${loadBefore} / ${load()}`);
console.log(
  `throttle ${process.env.FJORD_REASSIGNMENT_THROTTLE_BYTES ?? '50000000 (default)'} B/s per broker and direction`,
);
console.log('| data (topic: 6 partitions) | 3 → 6 s | 6 → 3 s |');
console.log('| --- | --: | --: |');
for (const r of rows) console.log(r);
