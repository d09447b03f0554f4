/**
 * Exactly-once under chaos: two instances of a consume-transform-produce application
 * (librdkafka transactions with send_offsets_to_transaction, see confluent_eos_app.py) copy an
 * input topic that a producer keeps writing, while brokers — the transaction coordinator among
 * them — and the application instances themselves are killed with kill -9 at random and
 * restarted. Afterwards a read_committed reader of the output must see every input record
 * exactly once, in the input's order per partition: nothing an aborted or fenced transaction
 * wrote, nothing re-processed after a rebalance (KIP-447's require_stable offsets), nothing lost.
 *
 * Short in CI (FJORD_EOS_CHAOS_SECONDS, default 30); on demand for longer, e.g.
 *   FJORD_EOS_CHAOS_SECONDS=600 npx vitest run test/chaos/exactlyOnce.test.ts
 * FJORD_CHAOS_SEED replays a run (the seed is printed).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dumpTopic,
  onJsonLines,
  ProducerWorkload,
  startTestCluster,
  type TestCluster,
  waitFor,
} from '../cluster/harness.js';
import { seededRandom } from './seededRandom.js';

const SECONDS = Number(process.env.FJORD_EOS_CHAOS_SECONDS ?? 30);
const SEED = Number(process.env.FJORD_CHAOS_SEED ?? Date.now() % 1_000_000);
const PARTITIONS = 3;
const IN = 'eos-in';
const OUT = 'eos-out';
const GROUP = 'eos-app';
const PYTHON = '/usr/bin/python3';
const APP = join(import.meta.dirname, '../transactions/clients/confluent_eos_app.py');
/** Failure detection: a stuck pipeline, not a slow one. */
const LIVENESS_MS = 300_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One application instance under a supervisor: restarted whenever it exits or is killed. */
class SupervisedApp {
  committedTxns = 0;
  abortedTxns = 0;
  fatal: string[] = [];
  starts = 0;
  private child: ChildProcess | undefined;
  private stopping = false;
  private stderr = '';
  private onProduced: (() => void) | undefined;

  constructor(
    private readonly bootstrap: string,
    readonly transactionalId: string,
  ) {
    this.spawn();
  }

  private spawn(): void {
    this.starts++;
    const child = spawn(PYTHON, [APP, this.bootstrap, IN, OUT, GROUP, this.transactionalId], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    onJsonLines(
      child.stdout!,
      (line) => {
        const l = line as { produced?: number; committed?: number; aborted?: string; fatal?: string };
        if (l.produced !== undefined) this.onProduced?.();
        if (l.committed !== undefined) this.committedTxns++;
        if (l.aborted !== undefined) this.abortedTxns++;
        if (l.fatal !== undefined) this.fatal.push(l.fatal);
      },
      () => {},
    );
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    child.on('exit', () => {
      if (!this.stopping) setTimeout(() => !this.stopping && this.spawn(), 200);
    });
  }

  /**
   * kill -9 as soon as the instance has written a transaction's records and before it commits
   * them (bounded: an instance with nothing to do is killed anyway); the supervisor restarts it.
   */
  async killMidTransaction(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      this.onProduced = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.onProduced = undefined;
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  lastErrors(): string {
    return this.stderr.slice(-800);
  }
}

let t: TestCluster;

beforeAll(async () => {
  t = await startTestCluster({
    brokers: 3,
    zones: 3,
    overrides: {
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'transaction.state.log.num.partitions': '6',
      'replica.lag.time.max.ms': '10000',
    },
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

async function transactionCoordinator(transactionalId: string): Promise<number | undefined> {
  const r = await t.probe.send(ApiKey.FindCoordinator, 3, {
    key: transactionalId,
    keyType: 1,
    coordinatorKeys: [],
  });
  return r.errorCode === ErrorCode.NONE ? r.nodeId : undefined;
}

/** The group's committed offsets on the input, per partition (-1 where none). */
async function groupOffsets(): Promise<number[]> {
  const c = await t.probe.send(ApiKey.FindCoordinator, 3, { key: GROUP, keyType: 0, coordinatorKeys: [] });
  if (c.errorCode !== ErrorCode.NONE) return [];
  const r = await t.probe.sendTo(c.nodeId, ApiKey.OffsetFetch, 7, {
    groupId: GROUP,
    topics: [{ name: IN, partitionIndexes: [...Array(PARTITIONS).keys()] }],
    groups: [],
    requireStable: true,
  });
  if (r.errorCode !== ErrorCode.NONE) return [];
  return r.topics[0]!.partitions.map((p) =>
    p.errorCode === ErrorCode.NONE ? Number(p.committedOffset) : -1,
  );
}

/** Values of each partition in log order. */
function byPartition(records: readonly [number, number, string][]): string[][] {
  const out: string[][] = Array.from({ length: PARTITIONS }, () => []);
  for (const [p, , v] of [...records].sort((a, b) => a[0] - b[0] || a[1] - b[1])) out[p]!.push(v);
  return out;
}

describe('exactly-once chaos', () => {
  it(`copies every input record exactly once, in order, while brokers and the application die for ${SECONDS} s (seed ${SEED})`, {
    timeout: (SECONDS + 900) * 1000,
  }, async () => {
    const rnd = seededRandom(SEED);
    console.log(`eos chaos: seed ${SEED}, ${SECONDS} s`);
    await t.probe.createTopic(IN, PARTITIONS, 3);
    await t.probe.createTopic(OUT, PARTITIONS, 3);
    const bootstrap = t.cluster.bootstrapServers;
    const input = new ProducerWorkload(bootstrap, IN, PARTITIONS, SECONDS, 100, 'in');
    const apps = [0, 1].map((i) => new SupervisedApp(bootstrap, `eos-app-${i}`));
    const events: string[] = [];
    const started = Date.now();
    let coordinatorKilled = false;
    try {
      // Let the pipeline start before the first failure.
      await waitFor(
        () => apps.some((a) => a.committedTxns > 0),
        LIVENESS_MS,
        'a first committed transaction',
      );
      // The first failure takes a transaction coordinator, the second an application instance;
      // after that the seed decides.
      for (let i = 0; Date.now() - started < (SECONDS - 3) * 1000; i++) {
        await sleep(1500 + rnd() * 2500);
        const at = ((Date.now() - started) / 1000).toFixed(1);
        if (i === 1 || (i > 1 && rnd() < 0.4)) {
          const app = apps[Math.floor(rnd() * apps.length)]!;
          events.push(`${at}s kill -9 ${app.transactionalId} mid-transaction`);
          await app.killMidTransaction();
          continue;
        }
        const coordinator = i === 0 ? await transactionCoordinator(apps[0]!.transactionalId) : undefined;
        const victim = t.cluster.broker(coordinator ?? t.cluster.brokers[Math.floor(rnd() * 3)]!.id);
        if (coordinator !== undefined) coordinatorKilled = true;
        events.push(
          `${at}s kill -9 broker ${victim.id}${coordinator !== undefined ? ' (transaction coordinator)' : ''}`,
        );
        await victim.kill();
        await sleep(500 + rnd() * 3000);
        await victim.start();
      }
      const produced = await input.finished();
      // The input is complete; the application catches up with it through the failures' aftermath.
      const inputRecords = byPartition(await dumpTopic(bootstrap, IN));
      await waitFor(
        async () => {
          const offsets = await groupOffsets();
          return inputRecords.every(
            (values, p) => values.length === 0 || (offsets[p] ?? -1) >= values.length,
          );
        },
        LIVENESS_MS,
        'the application to commit offsets at the end of the input',
      );
      await Promise.all(apps.map((a) => a.stop()));
      const output = byPartition(await dumpTopic(bootstrap, OUT, { 'isolation.level': 'read_committed' }));
      const everything = byPartition(
        await dumpTopic(bootstrap, OUT, { 'isolation.level': 'read_uncommitted' }),
      );
      const inputCount = inputRecords.reduce((n, v) => n + v.length, 0);
      console.log(`eos chaos events:\n  ${events.join('\n  ')}`);
      console.log(
        `eos chaos: ${produced.sent} produced, ${inputCount} in the input; output read_committed ` +
          `${output.reduce((n, v) => n + v.length, 0)}, in the log ${everything.reduce((n, v) => n + v.length, 0)} ` +
          `(aborted data included); transactions committed ${apps.map((a) => a.committedTxns)}, ` +
          `aborted ${apps.map((a) => a.abortedTxns)}, starts ${apps.map((a) => a.starts)}, fatal ${apps.flatMap((a) => a.fatal)}`,
      );
      expect(coordinatorKilled).toBe(true);
      expect(apps.reduce((n, a) => n + a.starts, 0)).toBeGreaterThan(apps.length);
      // Killed transactions left their records in the log: read_committed must not show them.
      expect(everything.flat().length).toBeGreaterThan(output.flat().length);
      for (let p = 0; p < PARTITIONS; p++) expect(output[p]).toEqual(inputRecords[p]!.map((v) => `out:${v}`));
    } finally {
      for (const a of apps) await a.stop();
      await input.stop().catch(() => {});
    }
  });
});
