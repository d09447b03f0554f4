import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  applied,
  imageFromSnapshot,
  imageToRecords,
  LocalFileMetadataStore,
  MetadataAppendQueue,
  MetadataImage,
  MetadataPublisher,
  type MetadataRecord,
  planAlterPartition,
  planControlledShutdown,
  planElectLeaders,
  planFenceBroker,
  planLeaderRebalance,
  planLogDirsOffline,
  planReassignments,
  planUnfenceBroker,
  planUnregisterBroker,
  QuorumController,
  replay,
} from '../src/index.js';

const TOPIC_ID = 't-1';
const never = () => false;

function register(
  id: number,
  opts: { fenced?: boolean; rack?: string; logDirs?: string[] } = {},
): MetadataRecord {
  return {
    type: 'RegisterBroker',
    brokerId: id,
    incarnationId: `i${id}`,
    brokerEpoch: 10 + id,
    endpoints: [],
    rack: opts.rack ?? null,
    fenced: opts.fenced ?? false,
    logDirs: opts.logDirs,
  };
}

function cluster(
  partitions: { replicas: number[]; isr?: number[]; leader?: number; directories?: string[] }[],
  brokers: MetadataRecord[] = [register(1), register(2), register(3)],
): MetadataImage {
  const records: MetadataRecord[] = [...brokers, { type: 'Topic', name: 'orders', topicId: TOPIC_ID }];
  partitions.forEach((p, i) => {
    records.push({
      type: 'Partition',
      topicId: TOPIC_ID,
      partition: i,
      replicas: p.replicas,
      isr: p.isr ?? p.replicas,
      leader: p.leader ?? p.replicas[0]!,
      leaderEpoch: 0,
      partitionEpoch: 0,
      directories: p.directories,
    });
  });
  return replay(
    MetadataImage.EMPTY,
    records.map((record, offset) => ({ offset, record })),
  );
}

const state = (image: MetadataImage, p = 0) => image.partition('orders', p)!;

describe('fencing and unfencing brokers', () => {
  it('moves leadership to another ISR member and drops the fenced broker from the ISR', () => {
    const image = cluster([{ replicas: [1, 2, 3] }, { replicas: [2, 3, 1] }]);
    const after = applied(image, planFenceBroker(image, 1, never));
    expect(after.brokers.get(1)!.fenced).toBe(true);
    expect(state(after, 0)).toMatchObject({ leader: 2, isr: [2, 3], leaderEpoch: 1, partitionEpoch: 1 });
    // A follower leaving the ISR keeps the leader and its epoch.
    expect(state(after, 1)).toMatchObject({ leader: 2, isr: [2, 3], leaderEpoch: 0, partitionEpoch: 1 });
  });

  it('never empties an ISR: the last member stays, so only it can lead again, when it returns', () => {
    const image = cluster([{ replicas: [1, 2], isr: [1] }]);
    const fenced = applied(image, planFenceBroker(image, 1, never));
    expect(state(fenced)).toMatchObject({ leader: -1, isr: [1] });
    // Broker 2 is alive but was not in sync: no clean leader exists.
    const back = applied(fenced, planUnfenceBroker(fenced, 1, 11, never));
    expect(state(back)).toMatchObject({ leader: 1, isr: [1], leaderEpoch: 2 });
  });

  it('elects an out-of-sync replica only where the topic allows unclean election', () => {
    const image = cluster([{ replicas: [1, 2], isr: [1] }]);
    const after = applied(
      image,
      planFenceBroker(image, 1, () => true),
    );
    expect(state(after)).toMatchObject({ leader: 2, isr: [2] });
  });

  it('unregisters a broker: fenced first (leadership and ISR seat handed on), then forgotten', () => {
    const image = cluster([{ replicas: [1, 2, 3] }]);
    const plan = planUnregisterBroker(image, 1, never);
    expect(plan.ok).toBe(true);
    const after = applied(image, plan.records);
    expect(after.brokers.has(1)).toBe(false);
    expect(state(after)).toMatchObject({ leader: 2, isr: [2, 3] });
    // An already fenced broker is only forgotten; an unknown one is refused as Kafka refuses it.
    const fenced = cluster([{ replicas: [2, 3] }], [register(1, { fenced: true }), register(2), register(3)]);
    expect(planUnregisterBroker(fenced, 1, never).records).toEqual([
      { type: 'UnregisterBroker', brokerId: 1, brokerEpoch: 11 },
    ]);
    expect(planUnregisterBroker(after, 1, never)).toEqual({
      ok: false,
      records: [],
      error: 'BROKER_ID_NOT_REGISTERED',
    });
  });

  it('unfences only for the epoch that registered', () => {
    const image = cluster([{ replicas: [1] }], [register(1, { fenced: true })]);
    expect(planUnfenceBroker(image, 1, 999, never)).toEqual([]);
    expect(planUnfenceBroker(image, 1, 11, never)).not.toEqual([]);
  });

  it('keeps every invariant under random fence/unfence sequences', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ broker: fc.integer({ min: 1, max: 3 }), fence: fc.boolean() }), {
          maxLength: 30,
        }),
        (steps) => {
          let image = cluster([{ replicas: [1, 2, 3] }, { replicas: [2, 3, 1] }, { replicas: [3, 1] }]);
          for (const s of steps) {
            const records = s.fence
              ? planFenceBroker(image, s.broker, never)
              : planUnfenceBroker(image, s.broker, 10 + s.broker, never);
            image = applied(image, records);
            for (const p of image.topic('orders')!.partitions) {
              expect(p.isr.length).toBeGreaterThan(0);
              if (p.leader >= 0) {
                expect(p.isr).toContain(p.leader);
                expect(image.brokers.get(p.leader)!.fenced).toBe(false);
              } else expect(p.isr.every((r) => image.brokers.get(r)!.fenced)).toBe(true);
            }
          }
        },
      ),
    );
  });
});

describe('controlled shutdown and offline log dirs', () => {
  it('moves leadership off a shutting-down broker and takes it out of ISRs', () => {
    const image = cluster([{ replicas: [1, 2, 3] }, { replicas: [2, 1] }]);
    const after = applied(image, planControlledShutdown(image, 1, 11));
    expect(after.brokers.get(1)!.inControlledShutdown).toBe(true);
    expect(state(after, 0)).toMatchObject({ leader: 2, isr: [2, 3] });
    expect(state(after, 1)).toMatchObject({ leader: 2, isr: [2] });
  });

  it('fails over only the replicas in the failed log dir', () => {
    const image = cluster(
      [
        { replicas: [1, 2], directories: ['d1', 'x'] },
        { replicas: [1, 2], directories: ['d2', 'x'] },
      ],
      [register(1, { logDirs: ['d1', 'd2'] }), register(2, { logDirs: ['x'] })],
    );
    const after = applied(image, planLogDirsOffline(image, 1, 11, ['d1'], never));
    expect(state(after, 0)).toMatchObject({ leader: 2, isr: [2] });
    expect(state(after, 1)).toMatchObject({ leader: 1, isr: [1, 2] });
    expect(after.brokers.get(1)!.fenced).toBe(false);
  });
});

describe('AlterPartition', () => {
  const item = (over: Partial<Parameters<typeof planAlterPartition>[3][number]> = {}) => ({
    topic: { id: TOPIC_ID },
    partition: 0,
    leaderEpoch: 0,
    partitionEpoch: 0,
    newIsr: [1, 2],
    ...over,
  });

  it('lets the leader shrink its ISR, bumping the partition epoch but not the leader epoch', () => {
    const image = cluster([{ replicas: [1, 2, 3] }]);
    const { records, results } = planAlterPartition(image, 1, 11, [item()]);
    expect(results[0]).toMatchObject({ ok: true, state: { isr: [1, 2], leaderEpoch: 0, partitionEpoch: 1 } });
    expect(state(applied(image, records)).isr).toEqual([1, 2]);
  });

  it('refuses stale, foreign and ineligible changes with Kafka’s errors', () => {
    const image = cluster(
      [{ replicas: [1, 2, 3], isr: [1, 2] }],
      [register(1), register(2), register(3, { fenced: true })],
    );
    const error = (broker: number, over: object) =>
      planAlterPartition(image, broker, 10 + broker, [item(over)]).results[0];
    expect(error(1, { partitionEpoch: 5 })).toEqual({ ok: false, error: 'INVALID_UPDATE_VERSION' });
    expect(error(2, {})).toEqual({ ok: false, error: 'NOT_LEADER_OR_FOLLOWER' });
    expect(error(1, { leaderEpoch: -1 })).toEqual({ ok: false, error: 'FENCED_LEADER_EPOCH' });
    expect(error(1, { newIsr: [1, 2, 3] })).toEqual({ ok: false, error: 'INELIGIBLE_REPLICA' });
    expect(error(1, { newIsr: [2] })).toEqual({ ok: false, error: 'INVALID_REQUEST' });
    expect(planAlterPartition(image, 1, 99, [item()]).results[0]).toEqual({
      ok: false,
      error: 'STALE_BROKER_EPOCH',
    });
  });
});

describe('reassignment', () => {
  it('adds the target replicas, completes when they join the ISR, and hands leadership over', () => {
    const image = cluster([{ replicas: [1, 2] }], [register(1), register(2), register(3), register(4)]);
    const started = applied(
      image,
      planReassignments(image, [{ topic: 'orders', partition: 0, replicas: [3, 4] }], 3).records,
    );
    expect(state(started)).toMatchObject({
      replicas: [3, 4, 1, 2],
      addingReplicas: [3, 4],
      removingReplicas: [1, 2],
      leader: 1,
      isr: [1, 2],
    });
    // Broker 3 caught up: not complete yet.
    const half = planAlterPartition(started, 1, 11, [
      {
        topic: { id: TOPIC_ID },
        partition: 0,
        leaderEpoch: state(started).leaderEpoch,
        partitionEpoch: 1,
        newIsr: [1, 2, 3],
      },
    ]);
    const partly = applied(started, half.records);
    expect(state(partly)).toMatchObject({ addingReplicas: [3, 4], isr: [1, 2, 3] });
    const done = planAlterPartition(partly, 1, 11, [
      { topic: { id: TOPIC_ID }, partition: 0, leaderEpoch: 0, partitionEpoch: 2, newIsr: [1, 2, 3, 4] },
    ]);
    const finished = applied(partly, done.records);
    expect(state(finished)).toMatchObject({
      replicas: [3, 4],
      isr: [3, 4],
      leader: 3,
      addingReplicas: [],
      removingReplicas: [],
    });
    expect(state(finished).leaderEpoch).toBe(1);
  });

  it('cancels back to the original replicas and validates targets', () => {
    const image = cluster([{ replicas: [1, 2] }], [register(1), register(2), register(3)]);
    const started = applied(
      image,
      planReassignments(image, [{ topic: 'orders', partition: 0, replicas: [1, 3] }], 3).records,
    );
    expect(state(started).addingReplicas).toEqual([3]);
    const cancelled = applied(
      started,
      planReassignments(started, [{ topic: 'orders', partition: 0, replicas: null }], 3).records,
    );
    expect(state(cancelled)).toMatchObject({ replicas: [1, 2], addingReplicas: [], removingReplicas: [] });
    const bad = planReassignments(
      image,
      [
        { topic: 'orders', partition: 0, replicas: [1, 1] },
        { topic: 'orders', partition: 0, replicas: [1, 9] },
        { topic: 'orders', partition: 0, replicas: [1, 2, 3, 4] },
        { topic: 'orders', partition: 7, replicas: [1] },
        { topic: 'orders', partition: 0, replicas: null },
      ],
      3,
    ).results;
    expect(bad.map((r) => (r.ok ? 'ok' : r.error))).toEqual([
      'INVALID_REPLICA_ASSIGNMENT',
      'INVALID_REPLICA_ASSIGNMENT',
      'INVALID_REPLICA_ASSIGNMENT',
      'UNKNOWN_TOPIC_OR_PARTITION',
      'NO_REASSIGNMENT_IN_PROGRESS',
    ]);
  });
});

describe('leader elections', () => {
  it('elects the preferred replica when it is in sync, and says when it cannot', () => {
    const image = cluster([
      { replicas: [1, 2], leader: 2 },
      { replicas: [1, 2] },
      { replicas: [3, 2], isr: [2], leader: 2 },
    ]);
    const { records, results } = planElectLeaders(image, 'preferred', [
      { topic: 'orders', partition: 0 },
      { topic: 'orders', partition: 1 },
      { topic: 'orders', partition: 2 },
      { topic: 'nope', partition: 0 },
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error))).toEqual([
      'ok',
      'ELECTION_NOT_NEEDED',
      'PREFERRED_LEADER_NOT_AVAILABLE',
      'UNKNOWN_TOPIC_OR_PARTITION',
    ]);
    expect(state(applied(image, records)).leader).toBe(1);
  });

  it('rebalances leadership back to preferred replicas past the imbalance threshold', () => {
    const image = cluster([
      { replicas: [1, 2], leader: 2 },
      { replicas: [1, 2], leader: 2 },
      { replicas: [2, 1] },
    ]);
    const after = applied(image, planLeaderRebalance(image, 10));
    expect(
      image.topic('orders')!.partitions.map((p) => after.partition('orders', p.partition)!.leader),
    ).toEqual([1, 1, 2]);
    expect(planLeaderRebalance(after, 10)).toEqual([]);
  });
});

describe('QuorumController', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function controller(sessionTimeoutMs = 1000) {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-ctl-'));
    dirs.push(dir);
    const store = new LocalFileMetadataStore(dir);
    const publisher = new MetadataPublisher(store);
    const quorum = new MetadataAppendQueue(store, publisher);
    const c = new QuorumController(quorum, publisher, {
      clusterId: 'c1',
      sessionTimeoutMs,
      maxReplicationFactor: 3,
      leaderImbalancePercent: 10,
      uncleanAllowed: () => false,
    });
    c.activate(0);
    return { c, publisher, quorum };
  }
  const reg = (brokerId: number, incarnationId = `inc-${brokerId}`) => ({
    brokerId,
    clusterId: 'c1',
    incarnationId,
    endpoints: [
      { name: 'INTERNAL', host: '127.0.0.1', port: 9000 + brokerId, securityProtocol: 'PLAINTEXT' },
    ],
    rack: `az-${brokerId}`,
    logDirs: [`dir-${brokerId}`],
  });
  const beat = (brokerId: number, brokerEpoch: number, currentMetadataOffset: number, extra = {}) => ({
    brokerId,
    brokerEpoch,
    currentMetadataOffset,
    wantFence: false,
    wantShutDown: false,
    offlineLogDirs: [],
    ...extra,
  });

  it('registers fenced, unfences once caught up, fences when the session lapses', async () => {
    const { c, publisher } = await controller();
    const r = await c.registerBroker(reg(1), 0);
    if (!r.ok) throw new Error(r.message);
    expect(publisher.image.brokers.get(1)).toMatchObject({ fenced: true, rack: 'az-1', logDirs: ['dir-1'] });
    // Not caught up to its own registration: stays fenced.
    expect(await c.heartbeat(beat(1, r.brokerEpoch, r.brokerEpoch - 1), 100)).toMatchObject({
      isFenced: true,
      isCaughtUp: false,
    });
    expect(await c.heartbeat(beat(1, r.brokerEpoch, r.brokerEpoch), 200)).toMatchObject({
      isFenced: false,
      isCaughtUp: true,
    });
    expect(await c.heartbeat(beat(1, 12345, 0), 300)).toEqual({ ok: false, error: 'STALE_BROKER_EPOCH' });
    expect(await c.fenceExpired(1100)).toEqual([]);
    expect(await c.fenceExpired(1300)).toEqual([1]);
    expect(publisher.image.brokers.get(1)!.fenced).toBe(true);
  });

  it('refuses a second live process with the same node id', async () => {
    const { c } = await controller();
    const first = await c.registerBroker(reg(1, 'a'), 0);
    if (!first.ok) throw new Error('first registration failed');
    await c.heartbeat(beat(1, first.brokerEpoch, first.brokerEpoch), 10);
    expect(await c.registerBroker(reg(1, 'b'), 20)).toMatchObject({
      ok: false,
      error: 'DUPLICATE_BROKER_REGISTRATION',
    });
    expect(await c.registerBroker({ ...reg(2), clusterId: 'other' }, 20)).toMatchObject({
      ok: false,
      error: 'INCONSISTENT_CLUSTER_ID',
    });
  });

  it('lets a broker stop only after its leadership moved away, then fences it', async () => {
    const { c, publisher, quorum } = await controller(60_000);
    const epochs: number[] = [];
    for (const id of [1, 2]) {
      const r = await c.registerBroker(reg(id), 0);
      if (!r.ok) throw new Error(r.message);
      epochs[id] = r.brokerEpoch;
      await c.heartbeat(beat(id, r.brokerEpoch, publisher.image.offset), 0);
    }
    await quorum.submit(() => ({
      ok: true as const,
      records: [
        { type: 'Topic', name: 'orders', topicId: TOPIC_ID },
        {
          type: 'Partition',
          topicId: TOPIC_ID,
          partition: 0,
          replicas: [1, 2],
          isr: [1, 2],
          leader: 1,
          leaderEpoch: 0,
          partitionEpoch: 0,
        },
      ],
    }));
    const first = await c.heartbeat(beat(1, epochs[1]!, 0, { wantShutDown: true }), 10);
    // Leadership moved, but the broker has not seen that yet.
    expect(first).toMatchObject({ shouldShutDown: false });
    expect(publisher.image.partition('orders', 0)).toMatchObject({ leader: 2, isr: [2] });
    const second = await c.heartbeat(beat(1, epochs[1]!, publisher.image.offset, { wantShutDown: true }), 20);
    expect(second).toMatchObject({ shouldShutDown: true, isFenced: true });
  });

  it('reports an admin change propagated once every live broker heartbeated an image that has it', async () => {
    const { c, publisher } = await controller(60_000);
    const epochs: number[] = [];
    for (const id of [1, 2]) {
      const r = await c.registerBroker(reg(id), 0);
      if (!r.ok) throw new Error(r.message);
      epochs[id] = r.brokerEpoch;
      await c.heartbeat(beat(id, r.brokerEpoch, publisher.image.offset), 0);
    }
    const offset = publisher.image.offset;
    expect(await c.waitForPropagation(offset, 10)).toBe(false); // broker 1 reported an older image
    const waiting = c.waitForPropagation(offset, 5000);
    await c.heartbeat(beat(1, epochs[1]!, offset), 1);
    await c.heartbeat(beat(2, epochs[2]!, offset), 1);
    expect(await waiting).toBe(true);
  });

  it('hands out disjoint producer id blocks', async () => {
    const { c } = await controller();
    const r = await c.registerBroker(reg(1), 0);
    if (!r.ok) throw new Error(r.message);
    const a = await c.allocateProducerIds(1, r.brokerEpoch);
    const b = await c.allocateProducerIds(1, r.brokerEpoch);
    expect(a).toMatchObject({ ok: true, start: 0, length: 1000 });
    expect(b).toMatchObject({ ok: true, start: 1000 });
    expect(await c.allocateProducerIds(1, 777)).toEqual({ ok: false, error: 'STALE_BROKER_EPOCH' });
  });
});

describe('snapshots', () => {
  it('rebuild an image equal to the one they were taken from', () => {
    let image = cluster(
      [{ replicas: [1, 2, 3], directories: ['d1', 'd2', 'd3'] }, { replicas: [2, 3] }],
      [register(1, { logDirs: ['d1'] }), register(2), register(3), register(4)],
    );
    image = applied(image, planControlledShutdown(image, 3, 13));
    image = applied(image, planFenceBroker(image, 2, never));
    image = applied(
      image,
      planReassignments(image, [{ topic: 'orders', partition: 1, replicas: [4, 1] }], 3).records,
    );
    image = applied(image, [
      { type: 'Config', resourceType: 'topic', resourceName: 'orders', name: 'retention.ms', value: '1000' },
      { type: 'ProducerIds', brokerId: 1, brokerEpoch: 11, nextProducerId: 5000 },
      {
        type: 'AccessControlEntry',
        id: 'acl-1',
        resourceType: 2,
        resourceName: 'orders',
        patternType: 3,
        principal: 'User:alice',
        host: '*',
        operation: 3,
        permissionType: 3,
      },
      {
        type: 'UserScramCredential',
        name: 'alice',
        mechanism: 'SCRAM-SHA-256',
        salt: Buffer.from('salt').toString('base64'),
        storedKey: Buffer.from('stored').toString('base64'),
        serverKey: Buffer.from('server').toString('base64'),
        iterations: 4096,
      },
      {
        type: 'ClientQuota',
        entity: [{ entityType: 'user', entityName: 'alice' }],
        key: 'producer_byte_rate',
        value: 1024,
        remove: false,
      },
    ]);
    const rebuilt = imageFromSnapshot({ offset: image.offset, records: imageToRecords(image) });
    expect(rebuilt).toEqual(image);
    expect(rebuilt.partition('orders', 1)!.addingReplicas).toEqual([4, 1]);
    expect(rebuilt.acls.byId.size).toBe(1);
    expect(rebuilt.scram.get('alice', 'SCRAM-SHA-256')?.iterations).toBe(4096);
  });
});
