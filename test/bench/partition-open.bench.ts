/**
 * How long a partition takes to open after a clean shutdown: the log loaded and its producer
 * state rebuilt, from the producer snapshot at the log end (what a broker does now) against a
 * walk of every batch header (what it did before snapshots, and still does for a log that has
 * none). The log holds small batches of idempotent and transactional producers, aborts included.
 * Run: npx tsx test/bench/partition-open.bench.ts [--mib <n>] [--runs <n>] [--dir <path>]
 * Prints a Markdown table (median and worst of the runs, alternating the two cases).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRecordBatch } from '@fjord/protocol';
import { Partition, type ReplicaContext } from '../../packages/broker/src/replica/Partition.js';
import { DEFAULT_LOG_CONFIG, PartitionLog } from '../../packages/broker/src/storage/index.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const totalMiB = Number(args.get('mib') ?? 256);
const RUNS = Number(args.get('runs') ?? 5);
const dir = mkdtempSync(join(args.get('dir') ?? tmpdir(), 'fjord-open-bench-'));

const CONFIG = { ...DEFAULT_LOG_CONFIG, segmentBytes: 64 * 1024 * 1024 };
const STATE = {
  partition: 0,
  replicas: [1],
  isr: [1],
  leader: 1,
  leaderEpoch: 0,
  partitionEpoch: 0,
  addingReplicas: [],
  removingReplicas: [],
  directories: [''],
};
const CONTEXT: ReplicaContext = { brokerId: 1, replicaLagTimeMaxMs: 30_000, eligible: () => true };
const open = () =>
  new Partition(
    't',
    'id',
    0,
    PartitionLog.open(dir, CONFIG, { cleanShutdown: true, now: 0 }),
    STATE,
    CONTEXT,
    0,
  );

// 10 records of 100 B per batch, 50 producers; producers 0–9 transactional (every 10th aborted).
const value = Buffer.alloc(100, 'x');
const p = open();
const sequences = new Array<number>(50).fill(0);
let batches = 0;
for (let n = 0; p.log.sizeInBytes < totalMiB * 1024 * 1024; n++) {
  const producer = n % 50;
  const transactional = producer < 10;
  const data = buildRecordBatch({
    records: Array.from({ length: 10 }, () => ({ key: null, value })),
    producerId: BigInt(producer + 1),
    producerEpoch: 0,
    baseSequence: sequences[producer]!,
    transactional,
    baseTimestamp: BigInt(n),
  });
  const info = {
    producerId: BigInt(producer + 1),
    producerEpoch: 0,
    baseSequence: sequences[producer]!,
    lastSequence: sequences[producer]! + 9,
    isTransactional: transactional,
    recordCount: 10,
  };
  sequences[producer]! += 10;
  const r = p.appendAsLeader(data, [info], 1, 1, n);
  if (!r.ok) throw new Error(r.message);
  batches++;
  if (transactional && n % 7 === 0) {
    p.appendTxnMarker(
      { producerId: BigInt(producer + 1), producerEpoch: 0, coordinatorEpoch: 0, commit: n % 10 !== 0 },
      n,
    );
    batches++;
  }
}
const logEnd = p.log.logEndOffset;
await p.log.flushesSettled();
p.log.close();

function timeOpen(withSnapshot: boolean): number {
  if (!withSnapshot)
    for (const name of readdirSync(dir)) if (name.endsWith('.snapshot')) rmSync(join(dir, name));
  const start = process.hrtime.bigint();
  const q = open();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (q.log.logEndOffset !== logEnd) throw new Error('log end changed');
  q.log.close(); // writes the snapshot again for the next run
  return ms;
}

const results = { snapshot: [] as number[], walk: [] as number[] };
timeOpen(true); // page cache warm for both
for (let i = 0; i < RUNS; i++) {
  const order = i % 2 === 0 ? ([true, false] as const) : ([false, true] as const);
  for (const withSnapshot of order) results[withSnapshot ? 'snapshot' : 'walk'].push(timeOpen(withSnapshot));
}
rmSync(dir, { recursive: true, force: true });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const worst = (xs: number[]) => Math.max(...xs);
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}; load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; log ${totalMiB} MiB, ${batches} batches, 50 producers; ${RUNS} runs each, page cache warm`,
);
console.log('| open after a clean shutdown | median ms | worst ms |');
console.log('|---|---:|---:|');
console.log(
  `| from the producer snapshot | ${median(results.snapshot).toFixed(1)} | ${worst(results.snapshot).toFixed(1)} |`,
);
console.log(
  `| walking every batch header | ${median(results.walk).toFixed(1)} | ${worst(results.walk).toFixed(1)} |`,
);
