import { randomUUID } from 'node:crypto';
import { migrate } from '@fjord/db';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FencedControllerError,
  imageFromSnapshot,
  imageToRecords,
  type MetadataImage,
  MetadataPublisher,
  type MetadataRecord,
  PostgresMetadataStore,
} from '../src/index.js';

const db = `fjord_meta_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
const url = `postgresql://postgres@127.0.0.1:5432/${db}`;
const admin = async (sql: string) => {
  const c = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
  await c.connect();
  await c.query(sql);
  await c.end();
};
const stores: PostgresMetadataStore[] = [];
const store = (cluster: string, broker: number) => {
  const s = new PostgresMetadataStore(cluster, broker, url);
  stores.push(s);
  return s;
};
const topic = (name: string): MetadataRecord => ({ type: 'Topic', name, topicId: randomUUID() });

beforeAll(async () => {
  await admin(`CREATE DATABASE "${db}"`);
  await migrate(url);
});
afterAll(async () => {
  for (const s of stores) await s.close();
  await admin(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
});

describe('PostgreSQL metadata store', () => {
  it('gives the lease to one broker at a time and fences a stale controller', async () => {
    const a = store('c1', 1);
    const b = store('c1', 2);
    const leaseA = await a.acquireLease(60_000);
    expect(leaseA).toMatchObject({ holderBrokerId: 1, epoch: 1 });
    expect(await b.acquireLease(60_000)).toMatchObject({ holderBrokerId: 1, epoch: 1 });
    await expect(b.append([topic('x')])).rejects.toThrow(FencedControllerError);
    expect(await a.append([topic('t1'), topic('t2')])).toHaveLength(2);

    // A's lease expires; B takes over with a higher epoch and A can no longer write.
    await a.acquireLease(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(await b.acquireLease(60_000)).toMatchObject({ holderBrokerId: 2, epoch: 2 });
    await expect(a.append([topic('late')])).rejects.toThrow(FencedControllerError);
    const entries = await b.append([topic('t3')]);
    expect(entries.map((e) => e.offset)).toEqual([2]);
  });

  it('wakes readers through LISTEN/NOTIFY and keeps clusters apart', async () => {
    const writer = store('c2', 1);
    const reader = store('c2', 7);
    const other = store('c3', 1);
    await writer.acquireLease(60_000);
    await other.acquireLease(60_000);
    const publisher = new MetadataPublisher(reader);
    let woke = 0;
    await reader.listen(() => {
      woke++;
      void publisher.catchUp();
    });
    // One wake-up right after LISTEN starts, for whatever was appended before it.
    expect(woke).toBe(1);
    await other.append([topic('elsewhere')]);
    await writer.append([topic('orders')]);
    const until = Date.now() + 60_000;
    while (!publisher.image.topic('orders') && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    expect(publisher.image.topic('orders')).toBeDefined();
    expect(publisher.image.topic('elsewhere')).toBeUndefined();
    expect(woke).toBe(2);
    expect((await other.readAfter(-1)).map((e) => e.offset)).toEqual([0]);
  });

  it('listens again after its connection is killed, and catches up on what it missed', async () => {
    const writer = store('c4', 1);
    const reader = store('c4', 2);
    await writer.acquireLease(60_000);
    const publisher = new MetadataPublisher(reader);
    await reader.listen(() => void publisher.catchUp());
    // What a PostgreSQL restart does to the LISTEN session.
    await admin(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db}' AND query LIKE 'LISTEN%'`,
    );
    await writer.append([topic('while-away')]);
    const until = Date.now() + 60_000;
    while (!publisher.image.topic('while-away') && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    expect(publisher.image.topic('while-away')).toBeDefined();
    await writer.append([topic('after')]);
    const until2 = Date.now() + 60_000;
    while (!publisher.image.topic('after') && Date.now() < until2)
      await new Promise((r) => setTimeout(r, 20));
    expect(publisher.image.topic('after')).toBeDefined();
  });

  it('releases the lease so another broker takes over at once', async () => {
    const a = store('c5', 1);
    const b = store('c5', 2);
    expect((await a.acquireLease(60_000)).holderBrokerId).toBe(1);
    expect((await b.acquireLease(60_000)).holderBrokerId).toBe(1);
    await a.releaseLease();
    const taken = await b.acquireLease(60_000);
    expect(taken.holderBrokerId).toBe(2);
    expect(taken.remainingMs).toBeGreaterThan(59_000);
    await expect(a.append([topic('stale')])).rejects.toThrow(FencedControllerError);
  });

  it('starts new and lagging readers from the latest snapshot once the log below it is trimmed', async () => {
    const writer = store('c6', 1);
    await writer.acquireLease(60_000);
    const full = new MetadataPublisher(store('c6', 2));
    const lagging = new MetadataPublisher(store('c6', 3));
    for (let i = 0; i < 50; i++) await writer.append([topic(`t${i}`)]);
    await lagging.catchUp(); // at offset 49
    for (let i = 50; i < 100; i++) await writer.append([topic(`t${i}`)]);
    await full.catchUp();
    const image = full.image;
    await writer.writeSnapshot({ offset: 79, records: imageToRecords(replayUpTo(image, 79)) }, 0);
    await writer.writeSnapshot({ offset: 99, records: imageToRecords(image) }, 80);
    expect((await writer.readAfter(-1))[0]!.offset).toBe(80);

    const fresh = new MetadataPublisher(store('c6', 4));
    await fresh.catchUp();
    expect(fresh.image.offset).toBe(99);
    expect([...fresh.image.topicsByName.keys()].sort()).toEqual([...image.topicsByName.keys()].sort());
    await lagging.catchUp();
    expect(lagging.image.offset).toBe(99);
    expect(lagging.image.topicsByName.size).toBe(100);
    // Appends continue after the snapshot, and every reader follows them.
    await writer.append([topic('after-snapshot')]);
    await fresh.catchUp();
    expect(fresh.image.offset).toBe(100);
    expect(fresh.image.topic('after-snapshot')).toBeDefined();
  });
});

/** The image as it stood at `offset`: built again from the topics created up to it (t0…t<offset>). */
function replayUpTo(image: MetadataImage, offset: number): MetadataImage {
  const records = [...image.topicsByName.values()]
    .filter((t) => Number(t.name.slice(1)) <= offset)
    .map((t) => ({ type: 'Topic' as const, name: t.name, topicId: t.topicId }));
  return imageFromSnapshot({ offset, records });
}
