/**
 * Splits a V8 CPU profile of the broker (`node --cpu-prof`) into kinds of work: each sample's
 * self time goes to the first kind that matches a frame of its stack, leaf first (so the socket
 * write under a produce handler counts as socket write). Start-up and shutdown are left out, as is
 * idle time. Used by test/bench/profile-broker.sh (docs/adr/0023-broker-on-many-cores.md).
 * Run: `npx tsx test/bench/cpu-profile-split.ts FILE.cpuprofile [--after-produce]`
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Kinds of work, by a frame `function@dir/file.js` of the stack; the first match wins. */
const KINDS: readonly (readonly [string, RegExp])[] = [
  ['CRC-32C', /^crc32c@/],
  ['append: file write', /^writeSync@node:fs/],
  ['append: fsync', /^(fsync|fdatasync)(Sync)?@/],
  ['fetch: file read', /^(readSync|read)@node:fs|ReadBufferPool/],
  [
    'socket write',
    /^(writeGeneric|writevGeneric|handleWriteReq|afterWriteDispatched|onWriteComplete)@|^Socket\._write|^writeAll@network/,
  ],
  ['socket read + framing (frame copy)', /FrameDecoder|^onData@network\/KafkaConnection|^onStreamRead@/],
  ['hand-off to shard threads', /shard\/ShardPool|^postMessage@/],
  ['replication', /ReplicaFetcher|BrokerClient|DelayedProduce|Waiters/],
  ['response encode', /^encode|wire\/Writer/],
  ['request decode', /^decode|wire\/Reader/],
  [
    'produce: batch validation',
    /validateProduceRecords|RecordBatchHeader|records\/validate|prepareProduceRecords/,
  ],
  [
    'append: log bookkeeping',
    /storage\/(PartitionLog|LogSegment|OffsetIndex|TimeIndex|SparseIndex|LeaderEpochCache|FileIO)|ProducerStateManager|^appendAsLeader/,
  ],
  ['fetch: handler', /handlers\/fetch|FetchSession/],
  ['produce: handler', /handlers\/produce/],
  ['metrics', /metrics\//],
  ['request dispatch + connection', /KafkaApis|network\/KafkaConnection|RequestQueue|RequestMemoryPool/],
];
const STARTUP_OR_SHUTDOWN =
  /compileSourceTextModule|prepareExecution|dlopen|executeUserEntryPoint|esm\/|cjs\/loader|bootstrap\/|(assemble|start|stop)@dist\/Broker|startup@storage\/LogManager|close@storage\/(PartitionLog|LogManager)/;

const [file, flag] = process.argv.slice(2);
if (!file) throw new Error('usage: cpu-profile-split.ts FILE.cpuprofile [--after-produce]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const frame = (n: ProfileNode) =>
  `${n.callFrame.functionName}@${n.callFrame.url.split('/').slice(-2).join('/')}`;
const stackOf = (id: number): string[] => {
  const out: string[] = [];
  for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) out.push(frame(byId.get(x)!));
  return out;
};

// With --after-produce, only samples after the last one inside the produce handler (a consume
// that follows a produce in the same broker).
let from = 0;
if (flag === '--after-produce')
  profile.samples.forEach((s, i) => {
    if (stackOf(s).some((f) => f.includes('handlers/produce'))) from = i;
  });

const kindOf = (id: number): string => {
  const leaf = byId.get(id)!.callFrame.functionName;
  if (leaf === '(idle)') return 'idle';
  if (leaf === '(garbage collector)') return 'garbage collection';
  if (leaf === '(program)') return 'native, unattributed';
  const stack = stackOf(id);
  if (STARTUP_OR_SHUTDOWN.test(stack.join(' < '))) return 'start-up / shutdown';
  for (const f of stack) for (const [name, re] of KINDS) if (re.test(f)) return name;
  return 'other (streams, promises, timers)';
};
const totals = new Map<string, number>();
profile.samples.forEach((s, i) => {
  if (i <= from && from > 0) return;
  const kind = kindOf(s);
  totals.set(kind, (totals.get(kind) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const left = new Set(['idle', 'start-up / shutdown']);
let busy = 0;
for (const [k, t] of totals) if (!left.has(k)) busy += t;
console.log(
  `busy ${(busy / 1e3).toFixed(0)} ms (idle ${((totals.get('idle') ?? 0) / 1e3).toFixed(0)} ms, start-up/shutdown left out)`,
);
console.log('| kind of work | ms | share of busy |\n|---|---:|---:|');
for (const [k, t] of [...totals].filter(([k]) => !left.has(k)).sort((a, b) => b[1] - a[1]))
  console.log(`| ${k} | ${(t / 1e3).toFixed(0)} | ${((100 * t) / busy).toFixed(1)}% |`);
