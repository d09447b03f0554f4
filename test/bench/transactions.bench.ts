/**
 * Transactions against idempotent produce in the same run, on one in-process broker with
 * confluent_kafka (librdkafka): records/s of idempotent produce and of transactional produce in
 * transactions of FJORD_BENCH_TXN_SIZE records (default 1000), small transactions (one record
 * each) per second, and read_committed against read_uncommitted consume of the transactional topic.
 * 100-byte records, one partition. Rounds (FJORD_BENCH_ROUNDS, default 3) run one after another; the
 * table shows each round.
 * Run: `npx tsx test/bench/transactions.bench.ts` (FJORD_BENCH_MESSAGES, default 200000;
 * FJORD_BENCH_SMALL_TXNS, default 300). Not part of the test run.
 */
import { execFile } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { removeDir, startBroker } from '@fjord/test-support/broker';

const run = promisify(execFile);
const ROUNDS = Number(process.env.FJORD_BENCH_ROUNDS ?? 3);
const MESSAGES = Number(process.env.FJORD_BENCH_MESSAGES ?? 200_000);
const TXN_SIZE = Number(process.env.FJORD_BENCH_TXN_SIZE ?? 1000);
const SMALL_TXNS = Number(process.env.FJORD_BENCH_SMALL_TXNS ?? 300);
const DRIVER = join(import.meta.dirname, 'transactions.py');

const broker = await startBroker({ 'num.partitions': '1' });
const loadBefore = loadavg().map((l) => l.toFixed(2));
const rows: Record<string, number>[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    const { stdout } = await run(
      '/usr/bin/python3',
      [DRIVER, broker.bootstrap, String(MESSAGES), String(TXN_SIZE), String(SMALL_TXNS)],
      { maxBuffer: 1 << 20, timeout: 600_000 },
    );
    rows.push(JSON.parse(stdout.trim().split('\n').pop()!));
    console.error(`round ${round + 1}/${ROUNDS}: ${JSON.stringify(rows.at(-1))}`);
  }
} finally {
  await broker.stop();
  removeDir(broker.dataDir);
}
const keys = Object.keys(rows[0]!);
console.log(
  `${MESSAGES} records of 100 B, transactions of ${TXN_SIZE}, ${SMALL_TXNS} one-record transactions;`,
);
console.log(
  `${cpus().length} cores, load before ${loadBefore.join(' ')}, after ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`| round | ${keys.join(' | ')} |`);
console.log(`|---|${keys.map(() => '---').join('|')}|`);
rows.forEach((r, i) => {
  console.log(`| ${i + 1} | ${keys.map((k) => r[k]).join(' | ')} |`);
});
