/**
 * Log storage throughput: PartitionLog append (no fsync, and fsync per append) and sequential
 * reads, each next to the raw file-system ceiling measured in the same run on the same disk.
 * Run: npx tsx test/bench/log-storage.bench.ts [--dir <path>] [--mib <n>] [--fsync-mib <n>] [--runs <n>]
 * Prints a Markdown table and writes it to the "Log storage" section of test/bench/RESULTS.md.
 *
 * Cases run in rounds, in a different order each round; before every timed run the page cache
 * is written back (`sync`) and the heap collected, so that one case's dirty pages or garbage
 * (reads allocate a buffer per fetch) do not slow the next. The table shows best, median, worst.
 */
import { execSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildRecordBatch } from '@fjord/protocol';
import { DEFAULT_LOG_CONFIG, type LogConfig, PartitionLog } from '../../packages/broker/src/storage/index.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const baseDir = args.get('dir') ?? tmpdir();
const totalMiB = Number(args.get('mib') ?? 512);
const fsyncMiB = Number(args.get('fsync-mib') ?? 64);
const RUNS = Number(args.get('runs') ?? 9);

// A full collection between runs, without asking for `node --expose-gc`.
setFlagsFromString('--expose_gc');
const collectGarbage = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;
const RECORD_BYTES = 1024;
const RECORDS_PER_BATCH = 16;

/** One append's worth: ~1 MiB of 16-record batches of 1 KiB values, valid CRCs. */
function appendBuffer(): Buffer {
  const batch = buildRecordBatch({
    records: Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({
      key: Buffer.from(`key-${i}`),
      value: Buffer.alloc(RECORD_BYTES, i),
    })),
    baseTimestamp: BigInt(Date.now()),
  });
  const count = Math.floor(MiB / batch.length);
  return Buffer.concat(Array.from({ length: count }, () => batch));
}

const data = appendBuffer();

/** Bytes moved and seconds taken by one timed run (opening and closing not counted). */
interface Timed {
  readonly bytes: number;
  readonly secs: number;
  readonly ops: number;
}

interface Case {
  readonly name: string;
  readonly run: (dir: string) => Promise<Timed> | Timed;
  /** The case this one is compared with (its ceiling); none for a ceiling itself. */
  readonly ceiling?: string;
}

function clock(): () => number {
  const start = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - start) / 1e9;
}

/** Raw positional writes; with `fsyncEvery` n > 0, an fsync after every n writes and at the end. */
function rawWrite(appends: number, fsyncEvery: number): Case['run'] {
  return (dir) => {
    const fd = openSync(join(dir, 'raw.log'), 'w');
    const elapsed = clock();
    let position = 0;
    for (let i = 0; i < appends; i++) {
      let written = 0;
      while (written < data.length)
        written += writeSync(fd, data, written, data.length - written, position + written);
      position += data.length;
      if (fsyncEvery > 0 && ((i + 1) % fsyncEvery === 0 || i === appends - 1)) fsyncSync(fd);
    }
    const secs = elapsed();
    closeSync(fd);
    return { bytes: position, secs, ops: appends };
  };
}

function rawFileHandleWrite(appends: number): Case['run'] {
  return async (dir) => {
    const fh = await open(join(dir, 'raw.log'), 'w');
    const elapsed = clock();
    let position = 0;
    for (let i = 0; i < appends; i++) {
      await fh.write(data, 0, data.length, position);
      position += data.length;
    }
    const secs = elapsed();
    await fh.close();
    return { bytes: position, secs, ops: appends };
  };
}

/**
 * Appends through PartitionLog. With `yieldEvery`, the loop gives the event loop a turn now and
 * then, as a broker does between requests, so background flushes after rolls can run; the
 * timing then ends when they have finished.
 */
function logAppend(appends: number, config: LogConfig, yieldEvery = 0): Case['run'] {
  return async (dir) => {
    const log = PartitionLog.open(join(dir, 'bench-0'), config, { cleanShutdown: true, now: Date.now() });
    const elapsed = clock();
    for (let i = 0; i < appends; i++) {
      log.append(data, 0, Date.now());
      if (yieldEvery > 0 && i % yieldEvery === 0) await new Promise((r) => setImmediate(r));
    }
    await log.flushesSettled();
    const secs = elapsed();
    log.close();
    return { bytes: appends * data.length, secs, ops: appends };
  };
}

/** A log of `appends` MiB, written and flushed once, read by the read cases. */
function prepareReadLog(appends: number): { log: PartitionLog; dir: string } {
  const dir = mkdtempSync(join(baseDir, 'fjord-bench-read-'));
  const log = PartitionLog.open(join(dir, 'bench-0'), DEFAULT_LOG_CONFIG, {
    cleanShutdown: true,
    now: Date.now(),
  });
  for (let i = 0; i < appends; i++) log.append(data, 0, Date.now());
  log.flush();
  return { log, dir };
}

function logRead(log: PartitionLog): Case['run'] {
  return () => {
    const end = log.logEndOffset;
    const elapsed = clock();
    let offset = 0;
    let bytes = 0;
    let ops = 0;
    while (offset < end) {
      const chunk = log.read(offset, MiB)!;
      bytes += chunk.length;
      ops++;
      let pos = 0;
      let last = 0;
      while (pos < chunk.length) {
        last = pos;
        pos += chunk.readInt32BE(pos + 8) + 12;
      }
      offset = Number(chunk.readBigInt64BE(last)) + chunk.readInt32BE(last + 23) + 1;
    }
    return { bytes, secs: elapsed(), ops };
  };
}

function rawRead(file: string): Case['run'] {
  return () => {
    const fd = openSync(file, 'r');
    const elapsed = clock();
    let position = 0;
    let ops = 0;
    for (;;) {
      // A fresh buffer per read, as the log hands each fetch its own.
      const n = readSync(fd, Buffer.allocUnsafe(MiB), 0, MiB, position);
      if (n === 0) break;
      position += n;
      ops++;
    }
    const secs = elapsed();
    closeSync(fd);
    return { bytes: position, secs, ops };
  };
}

/** The cases in a different order each round, so that no case always follows the same one. */
function shuffled<T>(items: readonly T[], round: number): T[] {
  const out = [...items];
  let seed = round + 1;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function loadAverage(): string {
  return safe('cat /proc/loadavg').split(' ').slice(0, 3).join(' ');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const appends = Math.max(1, Math.round((totalMiB * MiB) / data.length));
  const fsyncAppends = Math.max(1, Math.round((fsyncMiB * MiB) / data.length));
  const noFsync: LogConfig = { ...DEFAULT_LOG_CONFIG };
  const rolling: LogConfig = { ...DEFAULT_LOG_CONFIG, segmentBytes: 128 * MiB };
  const fsyncEach: LogConfig = { ...DEFAULT_LOG_CONFIG, flushMessages: 1 };
  const reads = prepareReadLog(appends);
  const segmentFile = join(reads.log.dir, '00000000000000000000.log');
  const W = 'raw fs.writeSync, no fsync (ceiling)';
  const WR = 'raw fs.writeSync + fsync every 128 MiB (ceiling)';
  const WF = 'raw fs.writeSync + fsync per write (ceiling)';
  const R = 'raw fs.readSync, 1 MiB reads, page cache warm (ceiling)';
  const cases: Case[] = [
    { name: W, run: rawWrite(appends, 0) },
    { name: 'raw FileHandle.write (async), no fsync', run: rawFileHandleWrite(appends), ceiling: W },
    { name: 'PartitionLog.append, no fsync', run: logAppend(appends, noFsync), ceiling: W },
    { name: WR, run: rawWrite(appends, Math.round((128 * MiB) / data.length)) },
    {
      name: 'PartitionLog.append, 128 MiB segments (roll + background fsync, timed until done)',
      run: logAppend(appends, rolling, 8),
      ceiling: WR,
    },
    { name: WF, run: rawWrite(fsyncAppends, 1) },
    {
      name: 'PartitionLog.append, fsync per append (flush.messages=1)',
      run: logAppend(fsyncAppends, fsyncEach),
      ceiling: WF,
    },
    { name: R, run: rawRead(segmentFile) },
    {
      name: 'PartitionLog.read, maxBytes 1 MiB, sequential, page cache warm',
      run: logRead(reads.log),
      ceiling: R,
    },
  ];
  // Warm-up: JIT and file-system paths.
  for (const c of cases) await runIn(c, true);
  const samples = new Map<string, Timed[]>(cases.map((c) => [c.name, []]));
  const loadBefore = loadAverage();
  for (let round = 0; round < RUNS; round++)
    for (const c of shuffled(cases, round)) samples.get(c.name)!.push(await runIn(c, false));
  const loadAfter = loadAverage();
  reads.log.close();
  rmSync(reads.dir, { recursive: true, force: true });

  const rows = cases.map((c) => {
    const rates = samples.get(c.name)!.map((t) => t.bytes / t.secs / 1e6);
    return {
      name: c.name,
      best: Math.max(...rates),
      median: median(rates),
      worst: Math.min(...rates),
      bytes: samples.get(c.name)![0]!.bytes,
    };
  });
  const row = (name: string) => rows.find((r) => r.name === name)!;
  const versus = (c: Case, pick: 'best' | 'median') =>
    c.ceiling ? `${Math.round((100 * row(c.name)[pick]) / row(c.ceiling)[pick])}%` : '—';
  const table = [
    '| case | best MB/s | median MB/s | worst MB/s | best vs ceiling | median vs ceiling | data per run |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r, i) =>
        `| ${r.name} | ${r.best.toFixed(0)} | ${r.median.toFixed(0)} | ${r.worst.toFixed(0)} | ${versus(cases[i]!, 'best')} | ${versus(cases[i]!, 'median')} | ${(r.bytes / MiB).toFixed(0)} MiB |`,
    ),
  ].join('\n');
  console.log(table);

  const batchBytes = data.readInt32BE(8) + 12;
  const argv = process.argv.slice(2).join(' ');
  const machine = [
    `- machine: nproc ${safe('nproc')}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(
      Number(safe("awk '/MemTotal/ {print $2}' /proc/meminfo")) / 1024 / 1024,
    )} GiB RAM, node ${process.version}, ${safe('uname -sr')}`,
    `- disk: \`${baseDir}\` on ${safe(`df -T ${baseDir} | tail -1 | awk '{print $1" ("$2")"}'`)}`,
    `- command: \`npx tsx test/bench/log-storage.bench.ts${argv ? ` ${argv}` : ''}\``,
    `- date: ${new Date().toISOString()}; load average before / after: ${loadBefore} / ${loadAfter} (other work shares this machine)`,
    `- workload: appends of ${(data.length / MiB).toFixed(2)} MiB buffers, each ${data.length / batchBytes} batches of ${RECORDS_PER_BATCH} records of ${RECORD_BYTES} B (${batchBytes} B per batch); ${RUNS} rounds, cases shuffled each round, \`sync\` and a full GC before each timed run; segment.bytes 1 GiB unless noted; index.interval.bytes 4096`,
  ].join('\n');
  writeResults(`## Log storage\n\n${machine}\n\n${table}\n\n${notes()}\n`);
}

/** Runs one case in a fresh directory after writing back the page cache. */
async function runIn(c: Case, warmUp: boolean): Promise<Timed> {
  const dir = mkdtempSync(join(baseDir, 'fjord-bench-'));
  try {
    execSync('sync');
    collectGarbage();
    const t = await c.run(dir);
    if (!warmUp) process.stderr.write(`${c.name}: ${(t.bytes / t.secs / 1e6).toFixed(0)} MB/s\n`);
    return t;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function notes(): string {
  return [
    'The raw rows move the same bytes through the same file system in the same run: the ceiling.',
    'Other work shares this machine (see the load average), so runs vary widely; "best" is the run',
    'least disturbed, and the comparisons are best against best and median against median.',
    '`PartitionLog.append` adds stamping offsets and leader epoch into every batch header, the',
    'index updates and the roll and flush checks; `PartitionLog.read` adds the index lookup, a',
    'short header scan and trimming to whole batches. Appends and reads use synchronous',
    'positional I/O (`fs.writeSync`/`fs.readSync`): the async FileHandle row shows what the',
    'promise API costs for the same writes. A roll fsyncs the finished segment in the background',
    '(libuv thread pool); the rolling row is timed until those fsyncs are done.',
  ].join('\n');
}

function safe(command: string): string {
  try {
    return execSync(command, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Replaces this benchmark's section of RESULTS.md; other sections belong to other benches. */
function writeResults(section: string): void {
  const path = join(import.meta.dirname, 'RESULTS.md');
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmark results\n';
  const start = current.indexOf('## Log storage');
  let next: string;
  if (start < 0) next = `${current.trimEnd()}\n\n${section}`;
  else {
    const after = current.indexOf('\n## ', start + 1);
    next = current.slice(0, start) + section + (after < 0 ? '' : `\n${current.slice(after + 1)}`);
  }
  writeFileSync(path, next);
}

await main();
