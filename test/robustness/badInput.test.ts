/**
 * Hostile input: many connections send random bytes, truncated and corrupted valid frames,
 * oversized size prefixes and unknown API keys, while a real client keeps producing and
 * consuming. The broker must stay up, keep answering that client, and keep its memory bounded.
 */
import { connect, type Socket } from 'node:net';
import { ApiKey, encodeRequestFrame } from '@fjord/protocol';
import fc from 'fast-check';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { BrokerProcess, freePort } from './brokerProcess.js';

function send(port: number, data: Buffer, holdMs: number): Promise<void> {
  return new Promise((resolve) => {
    const s: Socket = connect(port, '127.0.0.1');
    s.on('error', () => resolve());
    s.on('data', () => {});
    s.on('connect', () => {
      s.write(data);
      setTimeout(() => {
        s.destroy();
        resolve();
      }, holdMs);
    });
  });
}

const validFrames = [
  encodeRequestFrame(ApiKey.Metadata, 9, 1, 'fuzz', {
    topics: null,
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  }),
  encodeRequestFrame(ApiKey.Produce, 7, 2, 'fuzz', {
    transactionalId: null,
    acks: 1,
    timeoutMs: 1000,
    topicData: [{ name: 'victim', partitionData: [{ index: 0, records: Buffer.alloc(80, 7) }] }],
  }),
  encodeRequestFrame(ApiKey.Fetch, 11, 3, 'fuzz', {
    replicaId: -1,
    maxWaitMs: 10,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: 'victim',
        topicId: '00000000-0000-0000-0000-000000000000',
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset: 0n,
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: 1 << 20,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  }),
];

describe('bad input', () => {
  let broker: BrokerProcess;
  afterAll(() => broker?.stop());

  it('stays up, serves real clients and bounds memory under garbage', { timeout: 120_000 }, async () => {
    broker = new BrokerProcess(await freePort(), { 'socket.request.max.bytes': String(10 * 1024 * 1024) });
    await broker.start();
    const kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'victim', logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'victim', messages: [{ value: 'before' }] });
    const baseline = broker.rssMiB();

    const garbage = fc.sample(
      fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 2000 }).map((a) => Buffer.from(a)),
        // Size prefixes far above socket.request.max.bytes: refused before any buffering.
        fc
          .integer({ min: 11 * 1024 * 1024, max: 0x7fffffff })
          .map((n) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])),
        fc.integer({ min: -0x80000000, max: -1 }).map((n) => {
          const b = Buffer.alloc(4);
          b.writeInt32BE(n);
          return b;
        }),
        // A valid frame cut short, or with one byte changed, or with an unknown API key.
        fc
          .tuple(fc.constantFrom(...validFrames), fc.nat())
          .map(([f, cut]) => f.subarray(0, 4 + (cut % (f.length - 4)))),
        fc.tuple(fc.constantFrom(...validFrames), fc.nat(), fc.nat(255)).map(([f, at, v]) => {
          const c = Buffer.from(f);
          c[4 + (at % (c.length - 4))] = v;
          return c;
        }),
        fc.integer({ min: 100, max: 32000 }).map((key) => {
          const f = Buffer.from(validFrames[0]!);
          f.writeInt16BE(key, 4);
          return f;
        }),
        fc.integer({ min: 13, max: 32000 }).map((v) => {
          const f = Buffer.from(validFrames[0]!);
          f.writeInt16BE(v, 6);
          return f;
        }),
      ),
      { numRuns: 1500, seed: 42 },
    );
    let produced = 0;
    for (let i = 0; i < garbage.length; i += 50) {
      await Promise.all(garbage.slice(i, i + 50).map((g) => send(broker.port, g, 20)));
      await producer.send({ topic: 'victim', messages: [{ value: `during-${produced++}` }] });
    }
    // A few slow connections that promise a large frame and then send nothing more.
    await Promise.all(Array.from({ length: 20 }, () => send(broker.port, Buffer.from([0, 0x90, 0, 0]), 200)));

    const consumer = kafka.consumer({ groupId: 'victim-check' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'victim', fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
    const until = Date.now() + 15_000;
    while (values.length < produced + 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    await consumer.disconnect();
    await producer.disconnect();

    expect(values.filter((v) => v === 'before' || v.startsWith('during-'))).toEqual([
      'before',
      ...Array.from({ length: produced }, (_, i) => `during-${i}`),
    ]);
    const rss = broker.rssMiB();
    console.log(
      `bad input: ${garbage.length} hostile connections, RSS ${baseline.toFixed(0)} → ${rss.toFixed(0)} MiB`,
    );
    expect(rss).toBeLessThan(baseline + 150);
  });
});
