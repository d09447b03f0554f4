import { ApiKey, batchOffsets, buildRecordBatch, decodeRecords, RecordBatchHeader } from '@fjord/protocol';
import { type RunningBroker, startBroker } from '@fjord/test-support/broker';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { RawClient } from './rawClient.js';

describe('cleanup.policy=compact through the broker', () => {
  let broker: RunningBroker;
  let client: RawClient;
  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  it('keeps the latest value per key once the cleaner has run', async () => {
    broker = await startBroker();
    const services = broker.broker.services;
    await services.ensureTopic('compacted', 1, {
      'cleanup.policy': 'compact',
      'segment.bytes': '1024',
      'min.cleanable.dirty.ratio': '0.01',
    });
    client = await RawClient.connect(broker.port);
    for (let round = 0; round < 10; round++) {
      const records = ['a', 'b', 'c'].map((k) => ({
        key: Buffer.from(k),
        value: Buffer.from(`${k}${round}`),
        headers: [{ key: 'pad', value: Buffer.alloc(200) }],
      }));
      await client.send(ApiKey.Produce, 7, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 1000,
        topicData: [
          { name: 'compacted', partitionData: [{ index: 0, records: buildRecordBatch({ records }) }] },
        ],
      });
    }
    const log = services.replicas.get('compacted', 0)!.log;
    expect(log.segmentCount).toBeGreaterThan(2);
    await services.logs.cleanLogs(Date.now());

    // One fetch returns the batches of one segment; read segment by segment until the end.
    const seen: string[] = [];
    let data = await client.fetchRecords('compacted', 0);
    let next = 0n;
    for (let i = 0; i < 50 && data.length > 0; i++) {
      for (const pos of batchOffsets(data)) {
        for (const r of decodeRecords(data, pos)) if (r.offset >= next) seen.push(`${r.offset}:${r.value}`);
        // A cleaned batch may be left empty (it keeps producer state); skip past it all the same.
        const last = new RecordBatchHeader(data, pos).lastOffset + 1n;
        if (last > next) next = last;
      }
      if (next >= BigInt(log.logEndOffset)) break;
      data = log.read(Number(next), 1 << 20) ?? Buffer.alloc(0);
    }
    const values = seen.map((s) => s.split(':')[1]!);
    // Older values of each key are gone from the cleaned part; the newest survive; offsets only grow.
    expect(values.filter((v) => v === 'a0' || v === 'b0' || v === 'c0')).toEqual([]);
    expect(values.slice(-3)).toEqual(['a9', 'b9', 'c9']);
    expect(seen.length).toBeLessThan(30);
    const offsets = seen.map((s) => Number(s.split(':')[0]));
    expect(offsets).toEqual([...offsets].sort((x, y) => x - y));
  });

  it('refuses records without a key at produce time, as Kafka does (INVALID_RECORD)', async () => {
    broker ??= await startBroker();
    client ??= await RawClient.connect(broker.port);
    await broker.broker.services.ensureTopic('keyed-only', 1, { 'cleanup.policy': 'compact,delete' });
    await broker.broker.services.ensureTopic('plain', 1, {});

    // A real client: the keyless send fails with Kafka's error, the keyed one goes through.
    const kafka = new Kafka({
      clientId: 'compaction-test',
      brokers: [`127.0.0.1:${broker.port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const producer = kafka.producer();
    await producer.connect();
    try {
      const refused = await producer.send({ topic: 'keyed-only', messages: [{ value: 'no key' }] }).then(
        () => null,
        (e: unknown) => e as { type?: string; cause?: { type?: string } },
      );
      expect(refused?.type ?? refused?.cause?.type).toBe('INVALID_RECORD');
      const [ok] = await producer.send({ topic: 'keyed-only', messages: [{ key: 'k', value: 'v' }] });
      expect(ok!.errorCode).toBe(0);
      // Topics that are not compacted keep taking keyless records.
      const [plain] = await producer.send({ topic: 'plain', messages: [{ value: 'no key' }] });
      expect(plain!.errorCode).toBe(0);
    } finally {
      await producer.disconnect();
    }

    // The wire answer: one record error per keyless record, Kafka's messages.
    const r = await client.send(ApiKey.Produce, 8, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 1000,
      topicData: [
        {
          name: 'keyed-only',
          partitionData: [
            {
              index: 0,
              records: buildRecordBatch({
                records: [
                  { key: Buffer.from('a'), value: Buffer.from('1') },
                  { key: null, value: Buffer.from('2') },
                ],
              }),
            },
          ],
        },
      ],
    });
    const p = r.responses[0]!.partitionResponses[0]!;
    expect(p.errorCode).toBe(87);
    expect(p.baseOffset).toBe(-1n);
    expect(p.recordErrors).toEqual([
      {
        batchIndex: 1,
        batchIndexErrorMessage:
          'Compacted topic cannot accept message without key in topic partition keyed-only-0.',
      },
    ]);
    expect(p.errorMessage).toMatch(/^One or more records have been rejected due to 1 record errors/);
    // Nothing of the refused set was appended.
    expect(broker.broker.services.replicas.get('keyed-only', 0)!.log.logEndOffset).toBe(1);
  });
});
