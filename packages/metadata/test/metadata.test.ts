import { appendFileSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AlterConfigOp,
  LocalFileMetadataStore,
  MetadataAppendQueue,
  MetadataImage,
  MetadataPublisher,
  type MetadataRecord,
  placeReplicas,
  planAlterConfigs,
  planCreatePartitions,
  planCreateTopic,
  planDeleteTopic,
  replay,
} from '../src/index.js';

const defaults = { numPartitions: 3, replicationFactor: 1, maxReplicationFactor: 3 };

function imageWith(records: MetadataRecord[]): MetadataImage {
  return replay(
    MetadataImage.EMPTY,
    records.map((record, offset) => ({ offset, record })),
  );
}

function broker(id: number, rack: string | null = null): MetadataRecord {
  return {
    type: 'RegisterBroker',
    brokerId: id,
    incarnationId: `i${id}`,
    brokerEpoch: 1,
    endpoints: [],
    rack,
    fenced: false,
  };
}

const create = (name: string, numPartitions = -1, replicationFactor = -1) => ({
  name,
  numPartitions,
  replicationFactor,
  assignments: [],
  configs: [],
});

describe('replica placement', () => {
  it('puts every replica of a partition in a distinct AZ when there are enough AZs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 30 }),
        fc.nat(1000),
        (perZone, rf, partitions, start) => {
          const brokers: { brokerId: number; rack: string }[] = [];
          for (let z = 0; z < 3; z++)
            for (let i = 0; i < perZone; i++) brokers.push({ brokerId: z * 10 + i, rack: `az-${z + 1}` });
          const rack = (id: number) => brokers.find((b) => b.brokerId === id)!.rack;
          for (const replicas of placeReplicas(brokers, 0, partitions, rf, start)) {
            expect(replicas).toHaveLength(rf);
            expect(new Set(replicas).size).toBe(rf);
            expect(new Set(replicas.map(rack)).size).toBe(rf);
          }
        },
      ),
    );
  });

  it('spreads leaders evenly', () => {
    const brokers = [0, 1, 2].map((id) => ({ brokerId: id, rack: null }));
    const leaders = placeReplicas(brokers, 0, 30, 2).map((r) => r[0]);
    for (const id of [0, 1, 2]) expect(leaders.filter((l) => l === id)).toHaveLength(10);
  });
});

describe('topic planning', () => {
  const image = imageWith([broker(1)]);

  it('creates a topic with broker defaults and live leaders', () => {
    const plan = planCreateTopic(image, create('orders'), defaults);
    expect(plan.ok).toBe(true);
    const next = imageWith([broker(1), ...(plan.ok ? plan.records : [])]);
    const topic = next.topic('orders')!;
    expect(topic.partitions).toHaveLength(3);
    expect(topic.partitions.map((p) => p.leader)).toEqual([1, 1, 1]);
    expect(topic.partitions[0]!.isr).toEqual([1]);
  });

  it('answers with the errors Kafka uses', () => {
    const existing = imageWith([
      broker(1),
      ...(planCreateTopic(image, create('a.b'), defaults) as { records: MetadataRecord[] }).records,
    ]);
    const err = (p: { ok: boolean; error?: string }) => (p.ok ? 'NONE' : p.error);
    expect(err(planCreateTopic(existing, create('a.b'), defaults))).toBe('TOPIC_ALREADY_EXISTS');
    expect(err(planCreateTopic(existing, create('a_b'), defaults))).toBe('INVALID_TOPIC_EXCEPTION');
    expect(err(planCreateTopic(image, create('bad name'), defaults))).toBe('INVALID_TOPIC_EXCEPTION');
    expect(err(planCreateTopic(image, create('x'.repeat(250)), defaults))).toBe('INVALID_TOPIC_EXCEPTION');
    expect(err(planCreateTopic(image, create('t', 0), defaults))).toBe('INVALID_PARTITIONS');
    expect(err(planCreateTopic(image, create('t', 1, 2), defaults))).toBe('INVALID_REPLICATION_FACTOR');
    expect(err(planCreateTopic(image, create('t', 1, 4), defaults))).toBe('INVALID_REPLICATION_FACTOR');
    expect(
      err(
        planCreateTopic(
          image,
          { ...create('t'), configs: [{ name: 'retention.ms', value: 'soon' }] },
          defaults,
        ),
      ),
    ).toBe('INVALID_CONFIG');
    expect(
      err(planCreateTopic(image, { ...create('t'), configs: [{ name: 'no.such', value: '1' }] }, defaults)),
    ).toBe('INVALID_CONFIG');
    expect(
      err(
        planCreateTopic(image, { ...create('t'), assignments: [{ partition: 0, brokerIds: [7] }] }, defaults),
      ),
    ).toBe('INVALID_REPLICA_ASSIGNMENT');
    expect(err(planDeleteTopic(image, 'missing'))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(err(planCreatePartitions(existing, { name: 'a.b', count: 2, assignments: null }, 3))).toBe(
      'INVALID_PARTITIONS',
    );
  });

  it('adds partitions, deletes topics and their configs', () => {
    const records: MetadataRecord[] = [broker(1)];
    const p1 = planCreateTopic(
      imageWith(records),
      { ...create('t', 1), configs: [{ name: 'retention.ms', value: '1000' }] },
      defaults,
    );
    if (!p1.ok) throw new Error(p1.message);
    records.push(...p1.records);
    const p2 = planCreatePartitions(imageWith(records), { name: 't', count: 4, assignments: null }, 3);
    if (!p2.ok) throw new Error(p2.message);
    records.push(...p2.records);
    expect(
      imageWith(records)
        .topic('t')!
        .partitions.map((p) => p.partition),
    ).toEqual([0, 1, 2, 3]);
    expect(imageWith(records).configsOf('topic', 't').get('retention.ms')).toBe('1000');
    const p3 = planDeleteTopic(imageWith(records), 't');
    if (!p3.ok) throw new Error(p3.message);
    records.push(...p3.records);
    expect(imageWith(records).topic('t')).toBeUndefined();
    expect(imageWith(records).configsOf('topic', 't').size).toBe(0);
  });

  it('alters configs incrementally and wholesale', () => {
    const p = planCreateTopic(
      image,
      { ...create('t', 1), configs: [{ name: 'retention.ms', value: '1000' }] },
      defaults,
    );
    const records = [broker(1), ...(p.ok ? p.records : [])];
    const inc = planAlterConfigs(
      imageWith(records),
      'topic',
      't',
      [{ name: 'cleanup.policy', op: AlterConfigOp.APPEND, value: 'compact' }],
      true,
    );
    if (!inc.ok) throw new Error(inc.message);
    const after = imageWith([...records, ...inc.records]).configsOf('topic', 't');
    expect(after.get('cleanup.policy')).toBe('delete,compact');
    expect(after.get('retention.ms')).toBe('1000');
    const full = planAlterConfigs(
      imageWith(records),
      'topic',
      't',
      [{ name: 'segment.ms', op: 0, value: '5000' }],
      false,
    );
    if (!full.ok) throw new Error(full.message);
    const replaced = imageWith([...records, ...full.records]).configsOf('topic', 't');
    expect(Object.fromEntries(replaced)).toEqual({ 'segment.ms': '5000' });
    const bad = planAlterConfigs(
      imageWith(records),
      'topic',
      't',
      [{ name: 'segment.ms', op: 0, value: 'x' }],
      true,
    );
    expect(bad.ok ? 'NONE' : bad.error).toBe('INVALID_CONFIG');
  });
});

describe('local file metadata store', () => {
  it('survives restart and truncates a torn or damaged tail', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fjord-meta-'));
    const store = new LocalFileMetadataStore(dir);
    const publisher = new MetadataPublisher(store);
    const controller = new MetadataAppendQueue(store, publisher);
    await controller.submit(() => ({ ok: true, records: [broker(1)] }));
    const created = await controller.submit((img) => planCreateTopic(img, create('t', 2), defaults));
    expect(created.ok).toBe(true);
    expect(publisher.image.topic('t')!.partitions).toHaveLength(2);
    await store.close();

    const file = join(dir, LocalFileMetadataStore.FILE_NAME);
    const good = readFileSync(file);
    appendFileSync(file, '{"o":99,"c":1,"r":{"type":"Topi'); // torn append
    const reopened = new LocalFileMetadataStore(dir);
    const p2 = new MetadataPublisher(reopened);
    await p2.catchUp();
    expect(p2.image.topic('t')!.partitions).toHaveLength(2);
    expect(readFileSync(file)).toEqual(good);
    await reopened.close();

    // Damage a byte inside the last line: that line and nothing else is dropped.
    const lines = good.toString().trimEnd().split('\n');
    const last = lines[lines.length - 1]!.replace('"leaderEpoch":0', '"leaderEpoch":7');
    writeFileSync(file, `${lines.slice(0, -1).join('\n')}\n${last}\n`);
    const damaged = new LocalFileMetadataStore(dir);
    expect(damaged.endOffset).toBe(lines.length - 2);
    await damaged.close();
    truncateSync(file, 0);
  });
});
