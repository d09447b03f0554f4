/**
 * The leader's replication state machine (Partition) on a real log: when the high watermark may
 * advance, who joins and leaves the ISR, what acks=all waits for, and how a follower appends and
 * truncates. Time is passed in, so lag rules are exact.
 */
import type { PartitionState } from '@fjord/metadata';
import { describe, expect, it } from 'vitest';
import { Partition, type ReplicaContext } from '../../src/replica/Partition.js';
import { DEFAULT_LOG_CONFIG } from '../../src/storage/LogConfig.js';
import { PartitionLog } from '../../src/storage/PartitionLog.js';
import { batchOf, tempDir } from '../storage/helpers.js';

const LAG_MS = 10_000;

function state(over: Partial<PartitionState> = {}): PartitionState {
  return {
    partition: 0,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
    leader: 1,
    leaderEpoch: 0,
    partitionEpoch: 0,
    addingReplicas: [],
    removingReplicas: [],
    directories: ['', '', ''],
    ...over,
  };
}

function partition(s: PartitionState, brokerId = 1, eligible: (id: number) => boolean = () => true, now = 0) {
  const context: ReplicaContext = {
    brokerId,
    replicaLagTimeMaxMs: LAG_MS,
    eligible: (_s, id) => eligible(id),
  };
  const log = PartitionLog.open(tempDir('fjord-partition-'), DEFAULT_LOG_CONFIG, {
    cleanShutdown: true,
    now: 0,
  });
  return new Partition('t', 'topic-id', 0, log, s, context, now);
}

/** Appends `n` single-record batches as the leader; returns the offset after them. */
function write(p: Partition, n: number, now = 0): number {
  let end = 0;
  for (let i = 0; i < n; i++) {
    const r = p.appendAsLeader(batchOf([`v${i}`]), [], -1, 1, now);
    if (!r.ok) throw new Error(r.message);
    end = r.lastOffset + 1;
  }
  return end;
}

describe('the leader of a replicated partition', () => {
  it('advances the high watermark to the slowest in-sync replica, never back', () => {
    const p = partition(state());
    write(p, 10);
    expect(p.highWatermark).toBe(0); // followers have not fetched: their position is unknown
    p.recordFollowerFetch(2, 10, 1);
    expect(p.highWatermark).toBe(0);
    p.recordFollowerFetch(3, 4, 1);
    expect(p.highWatermark).toBe(4);
    p.recordFollowerFetch(3, 10, 2);
    expect(p.highWatermark).toBe(10);
    p.recordFollowerFetch(3, 3, 3); // a stale fetch offset never moves it back
    expect(p.highWatermark).toBe(10);
  });

  it('answers acks=all once replicated, and says when the ISR fell below min.insync.replicas', () => {
    const p = partition(state());
    const end = write(p, 3);
    expect(p.checkReplicated(end, 2)).toEqual({ done: false });
    p.recordFollowerFetch(2, end, 1);
    p.recordFollowerFetch(3, end, 1);
    expect(p.checkReplicated(end, 2)).toEqual({ done: true, error: undefined });
    p.applyState(state({ isr: [1], partitionEpoch: 1 }), 2);
    expect(p.checkReplicated(end, 2)).toEqual({ done: true, error: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND' });
    expect(p.appendAsLeader(batchOf(['x']), [], -1, 2, 3)).toMatchObject({
      ok: false,
      error: 'NOT_ENOUGH_REPLICAS',
    });
  });

  it('drops followers that were not caught up for replica.lag.time.max.ms', () => {
    const p = partition(state());
    write(p, 5);
    p.recordFollowerFetch(2, 5, 1000);
    p.recordFollowerFetch(3, 2, 1000);
    expect(p.proposeIsr(5000)).toBeUndefined();
    expect(p.proposeIsr(LAG_MS + 1)).toEqual([1, 2]); // 3 last caught up when the leader started
  });

  it('lets a follower back in once it reached the high watermark, if eligible', () => {
    let eligible = false;
    const p = partition(state({ isr: [1, 2] }), 1, (id) => id !== 3 || eligible);
    write(p, 6);
    p.recordFollowerFetch(2, 6, 1);
    expect(p.highWatermark).toBe(6);
    p.recordFollowerFetch(3, 5, 2);
    expect(p.proposeIsr(3)).toBeUndefined(); // behind the high watermark
    p.recordFollowerFetch(3, 6, 4);
    expect(p.proposeIsr(5)).toBeUndefined(); // fenced or shutting down: not eligible
    eligible = true;
    expect(p.proposeIsr(6)).toEqual([1, 2, 3]);
  });

  it('counts a proposed member in the high watermark until the controller answers (maximal ISR)', () => {
    const p = partition(state({ isr: [1, 2] }));
    write(p, 4);
    p.recordFollowerFetch(2, 4, 1);
    p.recordFollowerFetch(3, 4, 1);
    expect(p.proposeIsr(2)).toEqual([1, 2, 3]);
    write(p, 4, 3); // offsets 4..7
    p.recordFollowerFetch(2, 8, 4);
    // 3 is still at 4: with the expansion pending it must have the records before they count.
    expect(p.highWatermark).toBe(4);
    // An unrelated image (same partition epoch) does not forget the pending change, even once 3
    // no longer counts as caught up by time alone.
    p.applyState(state({ isr: [1, 2] }), LAG_MS + 100);
    expect(p.highWatermark).toBe(4);
    p.isrCommitted([1, 2, 3], 1, LAG_MS + 200);
    p.recordFollowerFetch(3, 8, LAG_MS + 300);
    expect(p.highWatermark).toBe(8);
  });

  it('starts a new leader epoch at its log end when it takes over', () => {
    const p = partition(state({ leader: 2 }), 1);
    expect(p.isLeader).toBe(false);
    p.appendAsFollower(Buffer.concat([stamp(batchOf(['a']), 0, 0), stamp(batchOf(['b']), 1, 0)]), 2, 0, 0);
    expect(p.log.logEndOffset).toBe(2);
    expect(p.highWatermark).toBe(2);
    expect(p.applyState(state({ leader: 1, leaderEpoch: 1, partitionEpoch: 1 }), 1)).toBe('leader');
    expect(p.log.leaderEpochs.endOffsetFor(0, p.log.logEndOffset)).toEqual({ epoch: 0, endOffset: 2 });
  });
});

describe('a follower', () => {
  it('skips what it already has, takes the leader’s high watermark as far as its log reaches, and truncates', () => {
    const p = partition(state({ leader: 2 }), 1);
    const batches = [0, 1, 2].map((i) => stamp(batchOf([`v${i}`]), i, 0));
    p.appendAsFollower(Buffer.concat(batches.slice(0, 2)), 10, 0, 0);
    expect(p.highWatermark).toBe(2); // the leader's is 10, but we only have 2 records
    p.appendAsFollower(Buffer.concat(batches), 10, 0, 0); // a retried fetch overlaps
    expect(p.log.logEndOffset).toBe(3);
    p.truncateTo(1);
    expect(p.log.logEndOffset).toBe(1);
    expect(p.highWatermark).toBe(1);
  });
});

/** A batch as a leader wrote it: base offset and leader epoch filled in. */
function stamp(batch: Buffer, baseOffset: number, epoch: number): Buffer {
  batch.writeBigInt64BE(BigInt(baseOffset), 0);
  batch.writeInt32BE(epoch, 12);
  return batch;
}
