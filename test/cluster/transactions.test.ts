/**
 * Transactions on a real 3-broker cluster with a librdkafka producer: markers reach partition
 * leaders on other brokers (WriteTxnMarkers), followers rebuild the same transaction state from
 * replicated batches, and the transaction coordinator's broker is killed (-9) while a
 * transaction is open — the broker that takes its `__transaction_state` partition over loads the
 * transaction and the producer commits it there; the killed broker then comes back as a follower. read_committed then holds every
 * committed record exactly once and no aborted one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onJsonLines, startTestCluster, type TestCluster, waitFor } from './harness.js';

const PYTHON = '/usr/bin/python3';
const DRIVER = join(import.meta.dirname, '../transactions/clients/confluent_txn_steps.py');
/** Deadline for each step: detects a stuck cluster, not a slow one. */
const LIVENESS_MS = 180_000;
const PARTITIONS = 3;
const TOPIC = 'txn-cluster';
const TXN_ID = 'txn-failover';

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

interface Step {
  readonly step: string;
  readonly name?: string;
  readonly committed?: string[];
  readonly uncommitted?: string[];
  readonly code?: string;
  readonly message?: string;
}

/** The driver process: one command per line in, one JSON step per line out. */
class TxnDriver {
  readonly steps: Step[] = [];
  private readonly child: ChildProcess;
  private stderr = '';

  constructor(bootstrap: string) {
    this.child = spawn(PYTHON, [DRIVER, bootstrap, TOPIC, TXN_ID, String(PARTITIONS)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    onJsonLines(
      this.child.stdout!,
      (s) => this.steps.push(s as Step),
      (text) => {
        this.stderr += `\nstdout: ${text}`;
      },
    );
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
  }

  /** Sends a command and waits for the `count`-th step named `step`. */
  async run(command: string | undefined, step: string): Promise<Step> {
    const before = this.steps.filter((s) => s.step === step).length;
    if (command) this.child.stdin!.write(`${command}\n`);
    await waitFor(
      () => {
        const failed = this.steps.find((s) => s.step === 'error');
        if (failed) throw new Error(`driver failed: ${JSON.stringify(failed)} ${this.stderr}`);
        return this.steps.filter((s) => s.step === step).length > before;
      },
      LIVENESS_MS,
      `driver step ${step} (${command}); stderr: ${this.stderr.slice(-500)}`,
    );
    return this.steps.filter((s) => s.step === step).at(-1)!;
  }

  close(): void {
    this.child.stdin!.end();
    this.child.kill('SIGTERM');
  }
}

async function transactionCoordinator(): Promise<number> {
  const r = await t.probe.send(ApiKey.FindCoordinator, 3, { key: TXN_ID, keyType: 1, coordinatorKeys: [] });
  if (r.errorCode !== ErrorCode.NONE) throw new Error(`FindCoordinator: ${r.errorCode}`);
  return r.nodeId;
}

const records = (name: string, n: number) => Array.from({ length: n }, (_, i) => `${name}-${i}`);

describe('transactions across brokers', () => {
  it('commits an open transaction at the new coordinator after the old one is killed (-9); read_committed sees each committed record once', {
    timeout: 600_000,
  }, async () => {
    await t.probe.createTopic(TOPIC, PARTITIONS, 3);
    const driver = new TxnDriver(t.cluster.bootstrapServers);
    try {
      await driver.run(undefined, 'init');
      await driver.run('txn before 30 commit', 'txn');
      await driver.run('txn dropped 30 abort', 'txn');
      await driver.run('txn during 30 open', 'txn');

      const victim = await transactionCoordinator();
      await t.cluster.broker(victim).kill();
      // Another broker leads the `__transaction_state` partition once the victim's session ends.
      let successor = victim;
      await waitFor(
        async () => {
          successor = await transactionCoordinator();
          return successor !== victim;
        },
        LIVENESS_MS,
        'a new transaction coordinator',
      );
      // The producer finds the new coordinator, which loaded the open transaction, and commits.
      await driver.run('commit', 'commit');
      await t.cluster.broker(victim).start();
      await driver.run('txn after 30 commit', 'txn');

      const read = await driver.run('read', 'read');
      const expected = [...records('before', 30), ...records('during', 30), ...records('after', 30)];
      expect([...read.committed!].sort()).toEqual([...expected].sort());
      expect(new Set(read.committed).size).toBe(read.committed!.length);
      // The aborted records are in the log (read_uncommitted), never in read_committed.
      expect(read.uncommitted!.filter((v) => v.startsWith('dropped-')).sort()).toEqual(
        records('dropped', 30).sort(),
      );
    } finally {
      driver.close();
    }
  });
});
