/**
 * Transactions as real clients use them, against one broker: exactly-once consume-transform-
 * produce with confluent_kafka (send_offsets_to_transaction, read_committed) and kafkajs
 * (sendOffsets), aborted data never visible to read_committed, and fencing of a zombie producer.
 */
import { type RunningBroker, removeDir, startBroker } from '@fjord/test-support/broker';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from '../compat/clients.js';

const PYTHON = '/usr/bin/python3';
const CONFLUENT_EOS = new URL('./clients/confluent_eos.py', import.meta.url).pathname;

let broker: RunningBroker;
beforeAll(async () => {
  broker = await startBroker();
  for (const t of ['eos-in', 'eos-out', 'kjs-in', 'kjs-out']) await broker.broker.services.ensureTopic(t, 1);
});
afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

describe('confluent_kafka transactional producer', () => {
  it('commits exactly once, hides aborted data from read_committed, commits offsets with the transaction, fences a zombie', async () => {
    const out = await runProcess(
      PYTHON,
      [CONFLUENT_EOS, broker.bootstrap, 'eos-in', 'eos-out', 'eos-group', 'eos-confluent'],
      180_000,
    );
    const expected = Array.from({ length: 10 }, (_, i) => `committed-in-${i}`);
    expect(out.committed).toEqual([...expected, 'successor']);
    // read_uncommitted sees the aborted records too (and nothing of the fenced zombie's).
    expect(out.uncommitted).toEqual([
      ...Array.from({ length: 5 }, (_, i) => `aborted-in-${i}`),
      ...expected,
      'successor',
    ]);
    expect(out.group_offset).toBe(10);
    expect(out.zombie_error).toMatchObject({ fatal: true });
    expect(['_FENCED', 'PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH']).toContain(out.zombie_error.code);
  });
});

/** Values of `topic` read from the start until `last` arrives (read_committed unless told). */
async function readUntil(topic: string, last: string, readUncommitted = false): Promise<string[]> {
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${readUncommitted}`, readUncommitted });
  await consumer.connect();
  const values: string[] = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            const v = message.value?.toString() ?? '';
            values.push(v);
            if (v === last) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return values;
}

describe('kafkajs transactions', () => {
  it('commits with sendOffsets, aborts invisibly to read_committed, and a new producer fences the old one', async () => {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({
      transactionalId: 'eos-kafkajs',
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      const aborted = await producer.transaction();
      await aborted.send({ topic: 'kjs-out', messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });
      await aborted.abort();

      const committed = await producer.transaction();
      await committed.send({
        topic: 'kjs-out',
        messages: [{ value: 'committed-1' }, { value: 'committed-2' }],
      });
      await committed.sendOffsets({
        consumerGroupId: 'kjs-group',
        topics: [{ topic: 'kjs-in', partitions: [{ partition: 0, offset: '42' }] }],
      });
      await committed.commit();

      // A second instance of the same transactional id (kafkajs initialises it on its first
      // transaction): the first one's next transaction fails.
      const successor = kafka.producer({
        transactionalId: 'eos-kafkajs',
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await successor.connect();
      try {
        const next = await successor.transaction();
        const zombie = await producer.transaction();
        await expect(
          zombie.send({ topic: 'kjs-out', messages: [{ value: 'zombie' }] }).then(() => zombie.commit()),
        ).rejects.toThrow(/epoch|fenced/i);
        await next.send({ topic: 'kjs-out', messages: [{ value: 'successor' }] });
        await next.commit();
      } finally {
        await successor.disconnect();
      }
    } finally {
      await producer.disconnect();
    }
    expect(await readUntil('kjs-out', 'successor')).toEqual(['committed-1', 'committed-2', 'successor']);
    expect(await readUntil('kjs-out', 'successor', true)).toEqual([
      'aborted-1',
      'aborted-2',
      'committed-1',
      'committed-2',
      'successor',
    ]);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId: 'kjs-group', topics: ['kjs-in'] });
      expect(offsets[0]!.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '42' })]);
    } finally {
      await admin.disconnect();
    }
  });
});
