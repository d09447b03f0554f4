import { ErrorCode } from '@fjord/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  decodeConsumerOffsetsKey,
  decodeOffsetCommitValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  offsetsPartitionFor,
} from '../../src/group/ConsumerOffsetsRecords.js';
import {
  GroupCoordinator,
  type GroupPersistence,
  type GroupTimers,
  type JoinRequest,
  type OffsetEntry,
} from '../../src/group/GroupCoordinator.js';

/** Deterministic time: timers fire only when the test advances the clock. */
class VirtualClock implements GroupTimers {
  private t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;
  now(): number {
    return this.t;
  }
  after(delayMs: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.push({ at: this.t + delayMs, fn, id });
    return () => {
      this.timers = this.timers.filter((x) => x.id !== id);
    };
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
      await Promise.resolve();
    }
    this.t = end;
    await new Promise((r) => setImmediate(r));
  }
}

class MemoryPersistence implements GroupPersistence {
  offsets: OffsetEntry[] = [];
  failNext = false;
  async storeOffsets(_group: string, offsets: readonly OffsetEntry[]): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk on fire');
    }
    this.offsets.push(...offsets);
  }
  async storeGroup(): Promise<void> {}
}

let clock: VirtualClock;
let store: MemoryPersistence;
let gc: GroupCoordinator;
const config = {
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 300_000,
  initialRebalanceDelayMs: 0,
  maxGroupSize: 100,
  offsetMetadataMaxBytes: 4096,
};

beforeEach(() => {
  clock = new VirtualClock();
  store = new MemoryPersistence();
  gc = new GroupCoordinator(config, clock, store);
});

const join = (memberId = '', overrides: Partial<JoinRequest> = {}) =>
  gc.join({
    groupId: 'g',
    memberId,
    groupInstanceId: null,
    clientId: 'c',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 116, 255, 255, 255, 255]) }],
    requireKnownMemberId: false,
    ...overrides,
  });

const sync = (
  memberId: string,
  generationId: number,
  assignments: { memberId: string; assignment: Buffer }[] = [],
) =>
  gc.sync({
    groupId: 'g',
    generationId,
    memberId,
    groupInstanceId: null,
    protocolType: null,
    protocolName: null,
    assignments,
  });

/** Joins `n` members and completes the rebalance with the leader assigning `a<i>` to each. */
async function stableGroupOf(n: number) {
  const first = await join();
  const ids = [first.memberId];
  let results = [first];
  for (let i = 1; i < n; i++) {
    const newcomer = join();
    // Existing members learn of the rebalance through heartbeats and rejoin.
    expect(gc.heartbeat('g', ids[0]!, null, results[0]!.generationId)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoined = await Promise.all([...ids.map((id) => join(id)), newcomer]);
    ids.push(rejoined[rejoined.length - 1]!.memberId);
    results = rejoined;
  }
  const leader = results.find((r) => r.members.length > 0)!;
  const assignments = ids.map((id, i) => ({ memberId: id, assignment: Buffer.from(`a${i}`) }));
  const syncs = await Promise.all(
    ids.map((id) => sync(id, leader.generationId, id === leader.memberId ? assignments : [])),
  );
  return { ids, leader, syncs };
}

describe('GroupCoordinator', () => {
  it('elects a leader, hands it all members, and distributes its assignment', async () => {
    const { ids, leader, syncs } = await stableGroupOf(3);
    expect(leader.members.map((m) => m.memberId).sort()).toEqual([...ids].sort());
    expect(syncs.map((s) => s.assignment.toString())).toEqual(['a0', 'a1', 'a2']);
    expect(syncs.every((s) => s.errorCode === ErrorCode.NONE)).toBe(true);
    expect(gc.describe('g').state).toBe('Stable');
    expect(gc.describe('g').protocol).toBe('range');
  });

  it('requires a member id first for JoinGroup v4+ (KIP-394)', async () => {
    const first = await join('', { requireKnownMemberId: true });
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).not.toBe('');
    const second = await join(first.memberId, { requireKnownMemberId: true });
    expect(second.errorCode).toBe(ErrorCode.NONE);
    expect(second.leader).toBe(first.memberId);
  });

  it('expires a silent member after its session timeout and rebalances the rest', async () => {
    const { ids, leader } = await stableGroupOf(2);
    const survivor = ids[1]!;
    // Only the survivor keeps heartbeating.
    for (let t = 0; t < 12; t++) {
      await clock.advance(1000);
      gc.heartbeat('g', survivor, null, leader.generationId);
    }
    expect(gc.heartbeat('g', survivor, null, leader.generationId)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoin = await join(survivor);
    expect(rejoin.generationId).toBe(leader.generationId + 1);
    expect(rejoin.members.map((m) => m.memberId)).toEqual([survivor]);
    expect(gc.heartbeat('g', ids[0]!, null, leader.generationId)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('removes members that do not rejoin within the rebalance timeout', async () => {
    const { ids, leader } = await stableGroupOf(2);
    const pending = join(ids[0]!, { protocols: [{ name: 'range', metadata: Buffer.from('changed') }] });
    await clock.advance(30_000);
    const r = await pending;
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(r.generationId).toBe(leader.generationId + 1);
    expect(r.members.map((m) => m.memberId)).toEqual([ids[0]]);
  });

  it('answers stale generations and strangers with Kafka errors', async () => {
    const { ids, leader } = await stableGroupOf(1);
    expect(gc.heartbeat('g', ids[0]!, null, leader.generationId - 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(gc.heartbeat('g', 'nobody', null, leader.generationId)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await sync(ids[0]!, 99)).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await join('', { protocolType: 'connect' })).errorCode).toBe(
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    expect((await join('', { sessionTimeoutMs: 10 })).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect(
      await gc.commitOffsets('g', leader.generationId + 5, ids[0]!, null, [
        { topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: null },
      ]),
    ).toEqual([ErrorCode.ILLEGAL_GENERATION]);
  });

  it('lets a static member restart without a rebalance and fences its old id (KIP-345)', async () => {
    const a = await join('', { groupInstanceId: 'pod-0' });
    const gen = a.generationId;
    await sync(a.memberId, gen, [{ memberId: a.memberId, assignment: Buffer.from('mine') }]);
    const again = await join('', { groupInstanceId: 'pod-0' });
    expect(again.errorCode).toBe(ErrorCode.NONE);
    expect(again.generationId).toBe(gen);
    expect(again.memberId).not.toBe(a.memberId);
    expect(
      (
        await gc.sync({
          groupId: 'g',
          generationId: gen,
          memberId: again.memberId,
          groupInstanceId: 'pod-0',
          protocolType: null,
          protocolName: null,
          assignments: [],
        })
      ).assignment.toString(),
    ).toBe('mine');
    expect(gc.heartbeat('g', a.memberId, 'pod-0', gen)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(gc.heartbeat('g', again.memberId, 'pod-0', gen)).toBe(ErrorCode.NONE);
  });

  it('commits offsets only after persistence succeeds, and serves them back', async () => {
    const { ids, leader } = await stableGroupOf(1);
    const commit = (offset: bigint) =>
      gc.commitOffsets('g', leader.generationId, ids[0]!, null, [
        { topic: 't', partition: 0, offset, leaderEpoch: 3, metadata: 'm' },
      ]);
    expect(await commit(42n)).toEqual([ErrorCode.NONE]);
    store.failNext = true;
    expect(await commit(43n)).toEqual([ErrorCode.COORDINATOR_NOT_AVAILABLE]);
    expect(gc.fetchOffsets('g', [{ topic: 't', partitions: [0, 1] }])).toEqual([
      { topic: 't', partition: 0, offset: 42n, leaderEpoch: 3, metadata: 'm' },
      { topic: 't', partition: 1, offset: -1n, leaderEpoch: -1, metadata: '' },
    ]);
    expect(
      await gc.commitOffsets('g', leader.generationId, ids[0]!, null, [
        { topic: 't', partition: 0, offset: 1n, leaderEpoch: -1, metadata: 'x'.repeat(5000) },
      ]),
    ).toEqual([ErrorCode.OFFSET_METADATA_TOO_LARGE]);
  });

  it('deletes only empty groups, and rebuilds offsets from persisted records', async () => {
    const { ids } = await stableGroupOf(1);
    expect(await gc.deleteGroup('g')).toBe(ErrorCode.NON_EMPTY_GROUP);
    gc.leave('g', [{ memberId: ids[0]!, groupInstanceId: null }]);
    expect(gc.describe('g').state).toBe('Empty');
    expect(
      await gc.commitOffsets('g', -1, '', null, [
        { topic: 't', partition: 2, offset: 7n, leaderEpoch: -1, metadata: null },
      ]),
    ).toEqual([ErrorCode.NONE]);

    const restarted = new GroupCoordinator(config, clock, new MemoryPersistence());
    for (const e of store.offsets) {
      const key = decodeConsumerOffsetsKey(encodeOffsetCommitKey('g', e.topic, e.partition))!;
      const value = e.value ? decodeOffsetCommitValue(encodeOffsetCommitValue(e.value)) : null;
      if (key.kind === 'offset') restarted.loadOffset(key.group, key.topic, key.partition, value);
    }
    expect(restarted.fetchOffsets('g', null)).toEqual([
      { topic: 't', partition: 2, offset: 7n, leaderEpoch: -1, metadata: '' },
    ]);
    expect(await gc.deleteGroup('g')).toBe(ErrorCode.NONE);
    expect(await gc.deleteGroup('g')).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('maps groups to __consumer_offsets partitions exactly as Kafka does', () => {
    // abs("my-group".hashCode()) % 50 in Java is 12.
    expect(offsetsPartitionFor('my-group', 50)).toBe(12);
    expect(encodeOffsetCommitKey('g', 't', 1)).toEqual(Buffer.from([0, 1, 0, 1, 103, 0, 1, 116, 0, 0, 0, 1]));
  });
});
