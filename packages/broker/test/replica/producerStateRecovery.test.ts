/**
 * Producer state across restarts (Kafka's producer snapshots and transaction indexes): a broker
 * that restarts — cleanly or after a crash — starts from the newest snapshot and reads only the
 * log after it, and ends up with exactly the state a walk of the whole log gives: idempotent
 * producers' sequences and retries, open transactions (the last stable offset) and the aborted
 * transactions read_committed fetches report.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PartitionState } from '@fjord/metadata';
import { buildRecordBatch, type ProducerBatchInfo } from '@fjord/protocol';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Partition, type ReplicaContext } from '../../src/replica/Partition.js';
import { DEFAULT_LOG_CONFIG } from '../../src/storage/LogConfig.js';
import { PartitionLog } from '../../src/storage/PartitionLog.js';
import {
  CorruptProducerSnapshotError,
  decodeProducerSnapshot,
  encodeProducerSnapshot,
} from '../../src/storage/ProducerSnapshot.js';
import { decodeAbortedTransactions, encodeAbortedTransaction } from '../../src/storage/TransactionIndex.js';
import { simulateCrash, tempDir } from '../storage/helpers.js';

const CONFIG = { ...DEFAULT_LOG_CONFIG, segmentBytes: 700 };
const STATE: PartitionState = {
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
const CONTEXT: ReplicaContext = { brokerId: 1, replicaLagTimeMaxMs: 10_000, eligible: () => true };

function openPartition(dir: string, cleanShutdown: boolean): Partition {
  const log = PartitionLog.open(dir, CONFIG, { cleanShutdown, now: 0 });
  return new Partition('t', 'topic-id', 0, log, STATE, CONTEXT, 0);
}

/** What a restart must reproduce. */
function observe(p: Partition) {
  return {
    logEnd: p.log.logEndOffset,
    lastStableOffset: p.lastStableOffset,
    open: [...p.transactions.openTransactions()].sort(([a], [b]) => Number(a - b)),
    aborted: p.transactions
      .abortedIn(0, Number.MAX_SAFE_INTEGER)
      .map((a) => [a.producerId, a.firstOffset, a.lastOffset]),
    producers: [...p.producers.entries()].sort((a, b) => Number(a.producerId - b.producerId)),
    coordinatorEpochs: [1n, 2n, 3n].map((id) => p.transactions.coordinatorEpochOf(id)),
  };
}

type Op =
  | { kind: 'write'; producer: 1 | 2 | 3; records: number }
  | { kind: 'end'; producer: 1 | 2; commit: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('write' as const),
    producer: fc.constantFrom(1 as const, 2 as const, 3 as const),
    records: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({
    kind: fc.constant('end' as const),
    producer: fc.constantFrom(1 as const, 2 as const),
    commit: fc.boolean(),
  }),
);

/** Producers 1 and 2 are transactional, 3 only idempotent; each write is one batch. */
class Workload {
  private readonly sequences = new Map<bigint, number>();
  private now = 1_000;
  lastBatch: { data: Buffer; info: ProducerBatchInfo; offsets: [number, number] } | undefined;

  run(p: Partition, ops: readonly Op[]): void {
    for (const op of ops) {
      this.now += 10;
      if (op.kind === 'end') {
        const r = p.appendTxnMarker(
          { producerId: BigInt(op.producer), producerEpoch: 0, coordinatorEpoch: 3, commit: op.commit },
          this.now,
        );
        if (!r.ok) throw new Error(r.message);
        continue;
      }
      const producerId = BigInt(op.producer);
      const baseSequence = this.sequences.get(producerId) ?? 0;
      this.sequences.set(producerId, baseSequence + op.records);
      const transactional = op.producer !== 3;
      const data = buildRecordBatch({
        records: Array.from({ length: op.records }, (_, i) => ({
          key: null,
          value: Buffer.from(`v${baseSequence + i}`),
        })),
        producerId,
        producerEpoch: 0,
        baseSequence,
        transactional,
        baseTimestamp: BigInt(this.now),
      });
      const info: ProducerBatchInfo = {
        producerId,
        producerEpoch: 0,
        baseSequence,
        lastSequence: baseSequence + op.records - 1,
        isTransactional: transactional,
        recordCount: op.records,
      };
      const r = p.appendAsLeader(data, [info], 1, 1, this.now);
      if (!r.ok) throw new Error(r.message);
      this.lastBatch = { data, info, offsets: [r.firstOffset, r.lastOffset] };
    }
  }
}

const snapshots = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.snapshot'));

/** The state a walk of the whole log gives: every snapshot removed first. */
function fullWalkState(dir: string) {
  for (const name of snapshots(dir)) rmSync(join(dir, name));
  const p = openPartition(dir, true);
  const state = observe(p);
  p.log.close();
  return state;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('producer state snapshots and transaction indexes', () => {
  it("encode Kafka's snapshot and .txnindex formats and refuse damaged snapshots", () => {
    const entry = {
      producerId: 9n,
      epoch: 2,
      lastSequence: 41,
      lastOffset: 1_000,
      offsetDelta: 3,
      timestamp: 1_700_000_000_000,
      coordinatorEpoch: 5,
      currentTxnFirstOffset: 990,
    };
    const bytes = encodeProducerSnapshot([entry, { ...entry, producerId: 10n, currentTxnFirstOffset: -1 }]);
    expect(bytes.readInt16BE(0)).toBe(1); // version 1, then the CRC, then an int32-counted array
    expect(bytes.length).toBe(2 + 4 + 4 + 2 * 46);
    expect(decodeProducerSnapshot(bytes)).toEqual([
      entry,
      { ...entry, producerId: 10n, currentTxnFirstOffset: -1 },
    ]);
    const damaged = Buffer.from(bytes);
    damaged[20] = damaged[20]! ^ 0xff;
    expect(() => decodeProducerSnapshot(damaged)).toThrow(CorruptProducerSnapshotError);
    expect(() => decodeProducerSnapshot(bytes.subarray(0, bytes.length - 1))).toThrow(
      CorruptProducerSnapshotError,
    );

    const aborted = { producerId: 4n, firstOffset: 10, lastOffset: 20, lastStableOffset: 21 };
    const index = Buffer.concat([
      encodeAbortedTransaction(aborted),
      encodeAbortedTransaction({ ...aborted, lastOffset: 30 }),
    ]);
    expect(index.length).toBe(2 * 34);
    // A torn last entry (a crash mid-append) is not read.
    expect(decodeAbortedTransactions(index.subarray(0, 34 + 20))).toEqual([aborted]);
  });

  it('a clean restart reads no batch: the snapshot at the log end has it all', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
        const dir = tempDir('fjord-producer-state-');
        const p = openPartition(dir, true);
        new Workload().run(p, ops);
        const before = observe(p);
        p.log.close();
        expect(snapshots(dir)).toContain(`${String(before.logEnd).padStart(20, '0')}.snapshot`);

        const walked = vi.spyOn(PartitionLog.prototype, 'batches');
        const again = openPartition(dir, true);
        expect(walked.mock.calls.map((c) => c[0])).toEqual([before.logEnd]);
        walked.mockRestore();
        expect(observe(again)).toEqual(before);
        again.log.close();
        expect(fullWalkState(dir)).toEqual(before);
      }),
      { numRuns: 25 },
    );
  });

  it('after a crash, starts from a snapshot taken at a segment roll and reads only what follows', async () => {
    const dir = tempDir('fjord-producer-state-');
    const p = openPartition(dir, true);
    const workload = new Workload();
    const ops: Op[] = [];
    for (let i = 0; i < 30; i++)
      ops.push(
        { kind: 'write', producer: 1, records: 2 },
        { kind: 'write', producer: 2, records: 1 },
        { kind: 'write', producer: 3, records: 3 },
        { kind: 'end', producer: 1, commit: i % 3 !== 0 },
        ...(i % 4 === 3 ? [{ kind: 'end' as const, producer: 2 as const, commit: false }] : []),
      );
    ops.push({ kind: 'write', producer: 2, records: 2 }); // left open
    workload.run(p, ops);
    await p.log.flushesSettled();
    const before = observe(p);
    expect(p.log.segmentCount).toBeGreaterThan(3);
    expect(before.aborted.length).toBeGreaterThan(5);
    simulateCrash(p.log);

    const walked = vi.spyOn(PartitionLog.prototype, 'batches');
    const again = openPartition(dir, false);
    const from = walked.mock.calls[0]![0]!;
    walked.mockRestore();
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThan(before.logEnd);
    expect(observe(again)).toEqual(before);

    // Retries of the last batch are still recognised, and the producer goes on where it was.
    const last = workload.lastBatch!;
    const retry = again.appendAsLeader(last.data, [last.info], 1, 1, 50_000);
    expect(retry).toMatchObject({ ok: true, firstOffset: last.offsets[0], lastOffset: last.offsets[1] });
    expect(again.log.logEndOffset).toBe(before.logEnd);
    again.log.close();
    expect(fullWalkState(dir)).toEqual(before);
  });

  it('a truncation drops the snapshots and index entries past the cut', () => {
    const dir = tempDir('fjord-producer-state-');
    const p = openPartition(dir, true);
    const ops: Op[] = [];
    for (let i = 0; i < 20; i++)
      ops.push({ kind: 'write', producer: 1, records: 2 }, { kind: 'end', producer: 1, commit: i % 2 === 0 });
    new Workload().run(p, ops);
    p.log.close();
    const reopened = openPartition(dir, true);
    const cut = Math.floor(reopened.log.logEndOffset / 2);
    reopened.truncateTo(cut);
    expect(
      snapshots(dir)
        .map((n) => Number(n.slice(0, 20)))
        .every((o) => o <= cut),
    ).toBe(true);
    const after = observe(reopened);
    expect(after.aborted.every(([, , lastOffset]) => (lastOffset as number) < cut)).toBe(true);
    reopened.log.close();
    expect(fullWalkState(dir)).toEqual(after);
  });

  it('a damaged snapshot is deleted and an older one (or the whole log) used instead', () => {
    const dir = tempDir('fjord-producer-state-');
    const p = openPartition(dir, true);
    const ops: Op[] = [];
    for (let i = 0; i < 10; i++)
      ops.push({ kind: 'write', producer: 2, records: 3 }, { kind: 'end', producer: 2, commit: i % 2 === 1 });
    new Workload().run(p, ops);
    const before = observe(p);
    p.log.close();
    const newest = snapshots(dir).sort().at(-1)!;
    writeFileSync(join(dir, newest), Buffer.from('not a snapshot'));
    const again = openPartition(dir, true);
    expect(snapshots(dir)).not.toContain(newest);
    expect(observe(again)).toEqual(before);
    again.log.close();
  });
});
