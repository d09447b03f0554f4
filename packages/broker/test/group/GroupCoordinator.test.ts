import { buildRecordBatch, ErrorCode } from '@fjord/protocol';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  decodeConsumerOffsetsKey,
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  type GroupMetadataValue,
  offsetsPartitionFor,
} from '../../src/group/ConsumerOffsetsRecords.js';
import { loadConsumerOffsets } from '../../src/group/ConsumerOffsetsStore.js';
import {
  GroupCoordinator,
  type GroupPersistence,
  type GroupTimers,
  type JoinRequest,
  type OffsetEntry,
  ProducerFencedError,
} from '../../src/group/GroupCoordinator.js';
import { DEFAULT_LOG_CONFIG } from '../../src/storage/LogConfig.js';
import { PartitionLog } from '../../src/storage/PartitionLog.js';
import { tempDir } from '../storage/helpers.js';

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
  /** Every GroupMetadataValue written, oldest first. */
  groups: (GroupMetadataValue | null)[] = [];
  failNext = false;
  failNextGroup = false;
  async storeOffsets(_group: string, offsets: readonly OffsetEntry[]): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk on fire');
    }
    this.offsets.push(...offsets);
  }
  /** Transactional offsets written, with the producer that wrote them. */
  txnOffsets: { producerId: bigint; offsets: readonly OffsetEntry[] }[] = [];
  fenceBelowEpoch = -1;
  async storeTransactionalOffsets(
    _group: string,
    producer: { producerId: bigint; producerEpoch: number },
    offsets: readonly OffsetEntry[],
  ): Promise<void> {
    if (producer.producerEpoch < this.fenceBelowEpoch) throw new ProducerFencedError('old epoch');
    this.txnOffsets.push({ producerId: producer.producerId, offsets });
  }
  async storeGroup(_group: string, value: GroupMetadataValue | null): Promise<void> {
    if (this.failNextGroup) {
      this.failNextGroup = false;
      throw new Error('disk on fire');
    }
    this.groups.push(value);
  }

  /** The last stored group record, through the wire codec as a new coordinator reads it. */
  lastGroup(): GroupMetadataValue | null {
    const last = this.groups.at(-1);
    if (last === undefined) throw new Error('no group record stored');
    return last === null ? null : decodeGroupMetadataValue(encodeGroupMetadataValue(last));
  }
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
    // The leader that comes back is told the old leader id, so it syncs as a follower instead of
    // computing an assignment the Stable group would ignore (as Kafka answers).
    expect(again.leader).toBe(a.memberId);
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
    // The replaced instance is fenced, not a stranger (Kafka's validateCurrentMember): clients
    // stop on FENCED_INSTANCE_ID, where UNKNOWN_MEMBER_ID would make them rejoin and fence the new one.
    expect(gc.heartbeat('g', a.memberId, 'pod-0', gen)).toBe(ErrorCode.FENCED_INSTANCE_ID);
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

describe('GroupCoordinator taking over a group (coordinator failover)', () => {
  /** The coordinator that takes the group's __consumer_offsets partition over. */
  function takeOver(record = store.lastGroup()): GroupCoordinator {
    const next = new GroupCoordinator(config, clock, new MemoryPersistence());
    next.loadGroup('g', record);
    return next;
  }

  it('stores the members and their assignments when the leader syncs, not on commits', async () => {
    const { ids, leader } = await stableGroupOf(2);
    const stored = store.lastGroup()!;
    expect(stored.generation).toBe(leader.generationId);
    expect(stored.protocol).toBe('range');
    expect(stored.leader).toBe(leader.memberId);
    expect(stored.members.map((m) => [m.memberId, m.assignment.toString()])).toEqual([
      [ids[0], 'a0'],
      [ids[1], 'a1'],
    ]);
    expect(stored.members[0]).toMatchObject({
      clientId: 'c',
      sessionTimeout: 10_000,
      rebalanceTimeout: 30_000,
    });
    const records = store.groups.length;
    await gc.commitOffsets('g', leader.generationId, ids[0]!, null, [
      { topic: 't', partition: 0, offset: 5n, leaderEpoch: -1, metadata: null },
    ]);
    expect(store.groups.length).toBe(records);
  });

  it('keeps every member: heartbeats, commits, syncs and rejoins work without a rebalance', async () => {
    const { ids, leader } = await stableGroupOf(2);
    const next = takeOver();
    const gen = leader.generationId;
    expect(next.describe('g').state).toBe('Stable');
    expect(next.heartbeat('g', ids[0]!, null, gen)).toBe(ErrorCode.NONE);
    expect(next.heartbeat('g', ids[1]!, null, gen)).toBe(ErrorCode.NONE);
    expect(
      await next.commitOffsets('g', gen, ids[1]!, null, [
        { topic: 't', partition: 0, offset: 9n, leaderEpoch: -1, metadata: null },
      ]),
    ).toEqual([ErrorCode.NONE]);
    const resync = await next.sync({
      groupId: 'g',
      generationId: gen,
      memberId: ids[1]!,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [],
    });
    expect(resync).toMatchObject({ errorCode: ErrorCode.NONE, protocolName: 'range' });
    expect(resync.assignment.toString()).toBe('a1');
    // A follower rejoining with its subscription unchanged gets the current generation back.
    const follower = ids.find((id) => id !== leader.memberId)!;
    const rejoin = await next.join({
      groupId: 'g',
      memberId: follower,
      groupInstanceId: null,
      clientId: 'c',
      clientHost: '/127.0.0.1',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 30_000,
      protocolType: 'consumer',
      protocols: [
        { name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 116, 255, 255, 255, 255]) },
      ],
      requireKnownMemberId: false,
    });
    expect(rejoin).toMatchObject({ errorCode: ErrorCode.NONE, generationId: gen, leader: leader.memberId });
    expect(next.describe('g').state).toBe('Stable');
    expect(
      next
        .describe('g')
        .members.map((m) => m.memberAssignment.toString())
        .sort(),
    ).toEqual(['a0', 'a1']);
  });

  it('starts session timers at load: the silent member expires, the group rebalances', async () => {
    const { ids, leader } = await stableGroupOf(2);
    const record = store.lastGroup();
    // Long after the old coordinator last heard of them: the timers count from the load.
    await clock.advance(60_000);
    const next = takeOver(record);
    const gen = leader.generationId;
    for (let t = 0; t < 9; t++) {
      await clock.advance(1000);
      expect(next.heartbeat('g', ids[1]!, null, gen)).toBe(ErrorCode.NONE);
    }
    // 9 s after the load both members are still there; at 10 s the silent one goes.
    expect(next.describe('g').members).toHaveLength(2);
    await clock.advance(1000);
    expect(next.heartbeat('g', ids[1]!, null, gen)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(next.heartbeat('g', ids[0]!, null, gen)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('a group whose members never come back expires to Empty and is stored so', async () => {
    const { leader } = await stableGroupOf(2);
    const next = new GroupCoordinator(config, clock, store);
    next.loadGroup('g', store.lastGroup());
    await clock.advance(10_000 + 30_000);
    expect(next.describe('g').state).toBe('Empty');
    expect(store.lastGroup()).toMatchObject({ generation: leader.generationId + 1, members: [] });
  });

  it('loads an Empty group with its generation, and new members join the next one', async () => {
    const { ids, leader } = await stableGroupOf(1);
    gc.leave('g', [{ memberId: ids[0]!, groupInstanceId: null }]);
    expect(store.lastGroup()).toMatchObject({ members: [], protocol: null, leader: null });
    const next = takeOver();
    expect(next.describe('g').state).toBe('Empty');
    expect(next.heartbeat('g', ids[0]!, null, leader.generationId)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const fresh = await next.join({
      groupId: 'g',
      memberId: '',
      groupInstanceId: null,
      clientId: 'c',
      clientHost: '/127.0.0.1',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 30_000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from('s') }],
      requireKnownMemberId: false,
    });
    expect(fresh.generationId).toBe(leader.generationId + 2);
  });

  it('a static member keeps its place across the move, and restarts there without a rebalance', async () => {
    const a = await join('', { groupInstanceId: 'pod-0' });
    const gen = a.generationId;
    await sync(a.memberId, gen, [{ memberId: a.memberId, assignment: Buffer.from('mine') }]);
    // The restart's new member id is stored before the join is answered.
    const again = await join('', { groupInstanceId: 'pod-0' });
    expect(store.lastGroup()!.members.map((m) => [m.memberId, m.groupInstanceId])).toEqual([
      [again.memberId, 'pod-0'],
    ]);
    const next = takeOver();
    expect(next.heartbeat('g', again.memberId, 'pod-0', gen)).toBe(ErrorCode.NONE);
    expect(next.heartbeat('g', a.memberId, 'pod-0', gen)).toBe(ErrorCode.FENCED_INSTANCE_ID);
    // Restarting once more at the new coordinator, with a protocol list longer than the one
    // stored (Kafka stores only the chosen protocol's subscription): still no rebalance.
    const third = await next.join({
      groupId: 'g',
      memberId: '',
      groupInstanceId: 'pod-0',
      clientId: 'c',
      clientHost: '/127.0.0.1',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 30_000,
      protocolType: 'consumer',
      protocols: [
        { name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 116, 255, 255, 255, 255]) },
        { name: 'roundrobin', metadata: Buffer.from('rr') },
      ],
      requireKnownMemberId: false,
    });
    expect(third).toMatchObject({ errorCode: ErrorCode.NONE, generationId: gen });
    expect(next.describe('g').state).toBe('Stable');
    expect(next.heartbeat('g', third.memberId, 'pod-0', gen)).toBe(ErrorCode.NONE);
    expect(next.heartbeat('g', again.memberId, 'pod-0', gen)).toBe(ErrorCode.FENCED_INSTANCE_ID);
  });

  it('keeps the old static member id when the replacement cannot be stored', async () => {
    const a = await join('', { groupInstanceId: 'pod-0' });
    await sync(a.memberId, a.generationId, [{ memberId: a.memberId, assignment: Buffer.from('mine') }]);
    store.failNextGroup = true;
    const again = await join('', { groupInstanceId: 'pod-0' });
    expect(again.errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(gc.heartbeat('g', a.memberId, 'pod-0', a.generationId)).toBe(ErrorCode.NONE);
    expect(gc.describe('g').members.map((m) => m.memberId)).toEqual([a.memberId]);
  });
});

describe('loading a __consumer_offsets partition (real log)', () => {
  it('rebuilds each group from its last readable record, with its offsets; a tombstone removes a group', async () => {
    const log = PartitionLog.open(tempDir('fjord-offsets-'), DEFAULT_LOG_CONFIG, {
      cleanShutdown: true,
      now: 0,
    });
    const append = (records: { key: Buffer; value: Buffer | null }[]) =>
      log.append(buildRecordBatch({ records, baseTimestamp: 0n }), 0, 0);
    const member = {
      memberId: 'm-1',
      groupInstanceId: null,
      clientId: 'c',
      clientHost: '/10.0.0.1',
      rebalanceTimeout: 30_000,
      sessionTimeout: 10_000,
      subscription: Buffer.from('sub'),
      assignment: Buffer.from('asg'),
    };
    const stable = (generation: number): GroupMetadataValue => ({
      protocolType: 'consumer',
      generation,
      protocol: 'range',
      leader: 'm-1',
      currentStateTimestamp: 0n,
      members: [member],
    });
    append([{ key: encodeGroupMetadataKey('g'), value: encodeGroupMetadataValue(stable(3)) }]);
    append([
      {
        key: encodeOffsetCommitKey('g', 't', 0),
        value: encodeOffsetCommitValue({ offset: 41n, leaderEpoch: 0, metadata: '', commitTimestamp: 0n }),
      },
      { key: encodeGroupMetadataKey('g'), value: encodeGroupMetadataValue(stable(4)) },
      { key: encodeGroupMetadataKey('gone'), value: encodeGroupMetadataValue(stable(1)) },
    ]);
    const unreadable = encodeGroupMetadataValue(stable(5));
    unreadable.writeInt16BE(9); // a version no Kafka wrote: skipped, generation 4 stands
    append([
      { key: encodeGroupMetadataKey('g'), value: unreadable },
      { key: encodeGroupMetadataKey('gone'), value: null },
    ]);
    const next = new GroupCoordinator(config, clock, new MemoryPersistence());
    expect(loadConsumerOffsets(next, log, pino({ level: 'silent' }))).toBe(5);
    expect(next.list([]).map((g) => g.groupId)).toEqual(['g']);
    expect(next.describe('g')).toMatchObject({ state: 'Stable', protocol: 'range' });
    expect(next.heartbeat('g', 'm-1', null, 4)).toBe(ErrorCode.NONE);
    expect(next.fetchOffsets('g', null)).toEqual([
      { topic: 't', partition: 0, offset: 41n, leaderEpoch: 0, metadata: '' },
    ]);
    // One session timer for the member, started at load: it expires 10 s later, not earlier.
    await clock.advance(9_999);
    expect(next.describe('g').members).toHaveLength(1);
    await clock.advance(1);
    expect(next.describe('g')).toMatchObject({ state: 'Empty', members: [] });
    log.close();
  });
});

describe('transactional offset commits (TxnOffsetCommit)', () => {
  const commitTxn = (producerId: bigint, offset: bigint, producerEpoch = 0) =>
    gc.commitTransactionalOffsets(
      'txg',
      { producerId, producerEpoch },
      { generationId: -1, memberId: '', groupInstanceId: null },
      [{ topic: 't', partition: 0, offset, leaderEpoch: -1, metadata: null }],
    );
  const committed = () => gc.fetchOffsets('txg', [{ topic: 't', partitions: [0] }])[0]!.offset;

  it('become the committed offsets only when the transaction commits, never when it aborts', async () => {
    expect(await commitTxn(7n, 10n)).toEqual([ErrorCode.NONE]);
    expect(store.txnOffsets).toHaveLength(1);
    expect(committed()).toBe(-1n);
    gc.completeTransaction(7n, false, () => true);
    expect(committed()).toBe(-1n);

    expect(await commitTxn(7n, 20n)).toEqual([ErrorCode.NONE]);
    // A marker of another partition's groups leaves these pending.
    gc.completeTransaction(7n, true, (g) => g !== 'txg');
    expect(committed()).toBe(-1n);
    gc.completeTransaction(7n, true, () => true);
    expect(committed()).toBe(20n);
  });

  it('answers a fenced producer with INVALID_PRODUCER_EPOCH and keeps nothing', async () => {
    store.fenceBelowEpoch = 3;
    expect(await commitTxn(8n, 5n, 2)).toEqual([ErrorCode.INVALID_PRODUCER_EPOCH]);
    gc.completeTransaction(8n, true, () => true);
    expect(committed()).toBe(-1n);
  });
});
