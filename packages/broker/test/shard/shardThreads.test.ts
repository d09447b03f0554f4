/**
 * A broker with shard threads (num.shard.threads=2, docs/adr/0023): real clients over real
 * sockets — @platformatic/kafka and kcat (librdkafka) — produce and consume through it, with
 * acks=all and acks=1, pipelined requests, topic rules applied on the shards, and a shard thread
 * killed while a producer is writing.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { type RunningBroker, startBroker } from '@fjord/test-support/broker';
import { Admin, Producer, stringSerializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** Every record of one partition from the beginning, as `key:value` lines, read by kcat. */
async function kcatRead(bootstrap: string, topic: string, partition: number): Promise<string[]> {
  const { stdout } = await run(
    'kcat',
    ['-b', bootstrap, '-t', topic, '-C', '-p', String(partition), '-o', 'beginning', '-e', '-q', '-K', ':'],
    { timeout: 60_000, maxBuffer: 64 << 20 },
  );
  return stdout.split('\n').filter((l) => l !== '');
}

async function createTopic(
  bootstrap: string,
  topic: string,
  partitions: number,
  configs: Record<string, string> = {},
) {
  const admin = new Admin({ clientId: 'shard-test', bootstrapBrokers: [bootstrap] });
  try {
    await admin.createTopics({
      topics: [topic],
      partitions,
      replicas: 1,
      configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
    });
  } finally {
    await admin.close();
  }
}

describe('broker with shard threads (num.shard.threads=2)', () => {
  let broker: RunningBroker;
  beforeAll(async () => {
    broker = await startBroker({ 'num.shard.threads': '2' });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('acknowledges acks=all produce with the offsets the records are read back at, per partition', async () => {
    await createTopic(broker.bootstrap, 'ordered', 4);
    const producer = new Producer({
      clientId: 'ordered-producer',
      bootstrapBrokers: [broker.bootstrap],
      serializers: stringSerializers,
      idempotent: true,
      acks: -1,
    });
    const offsets: bigint[][] = [[], [], [], []];
    try {
      // One request per send, each naming all four partitions (two per shard thread at most).
      for (let i = 0; i < 50; i++) {
        const r = await producer.send({
          messages: [0, 1, 2, 3].map((p) => ({
            topic: 'ordered',
            partition: p,
            key: `k${p}`,
            value: `v${i}`,
          })),
        });
        for (const o of r.offsets ?? []) offsets[o.partition]!.push(o.offset);
      }
    } finally {
      await producer.close();
    }
    for (let p = 0; p < 4; p++) {
      expect(offsets[p]).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i)));
      expect(await kcatRead(broker.bootstrap, 'ordered', p)).toEqual(
        Array.from({ length: 50 }, (_, i) => `k${p}:v${i}`),
      );
    }
  });

  it('applies the topic rules on the shards: recompression, and the compacted key check', async () => {
    await createTopic(broker.bootstrap, 'zipped', 1, { 'compression.type': 'gzip' });
    const lines = Array.from({ length: 500 }, (_, i) => `key${i}:value${i}`);
    const p = run(
      'kcat',
      ['-b', broker.bootstrap, '-t', 'zipped', '-P', '-p', '0', '-K', ':', '-X', 'acks=1'],
      {
        timeout: 60_000,
      },
    );
    p.child.stdin!.end(`${lines.join('\n')}\n`);
    await p;
    expect(await kcatRead(broker.bootstrap, 'zipped', 0)).toEqual(lines);

    await createTopic(broker.bootstrap, 'compacted', 1, { 'cleanup.policy': 'compact' });
    const producer = new Producer({
      clientId: 'keyless-producer',
      bootstrapBrokers: [broker.bootstrap],
      serializers: stringSerializers,
      retries: 0,
    });
    try {
      await expect(
        producer.send({ messages: [{ topic: 'compacted', partition: 0, value: 'no key' }] }),
      ).rejects.toThrow();
      await producer.send({ messages: [{ topic: 'compacted', partition: 0, key: 'k', value: 'kept' }] });
    } finally {
      await producer.close();
    }
    expect(await kcatRead(broker.bootstrap, 'compacted', 0)).toEqual(['k:kept']);
  });

  // librdkafka's idempotent producer pipelines up to 5 requests per connection (linger.ms=1 makes
  // many small ones): this also checks that pipelined requests append in the order sent.
  it('loses, duplicates and reorders nothing when a shard thread dies under an idempotent producer', async () => {
    await createTopic(broker.bootstrap, 'crash', 1);
    const shards = broker.broker.services.shards!;
    const owner = shards.ownerOf('crash', 0);
    const restartsBefore = shards.restarts;
    const kcat = spawn(
      'kcat',
      [
        '-b',
        broker.bootstrap,
        '-t',
        'crash',
        '-P',
        '-p',
        '0',
        '-K',
        ':',
        '-X',
        'enable.idempotence=true',
        '-X',
        'linger.ms=1',
      ],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let stderr = '';
    kcat.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((r) => kcat.once('exit', (code) => r(code)));
    const lines = Array.from({ length: 200_000 }, (_, i) => `k:m${i}`);
    kcat.stdin.end(`${lines.join('\n')}\n`);
    // Kill the owner thread once records are landing, while the producer has requests in flight.
    const partition = broker.broker.services.replicas.get('crash', 0)!;
    while (partition.highWatermark < 1_000) await new Promise((r) => setTimeout(r, 5));
    await shards.workers()[owner]!.terminate();
    expect({ code: await exited, stderr }).toMatchObject({ code: 0 });
    expect(shards.restarts).toBe(restartsBefore + 1);
    expect(await kcatRead(broker.bootstrap, 'crash', 0)).toEqual(lines);
  });
});
