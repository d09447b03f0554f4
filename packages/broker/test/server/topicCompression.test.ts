import {
  ApiKey,
  buildRecordBatch,
  CompressionCodec,
  decodeRecords,
  RecordBatchHeader,
} from '@fjord/protocol';
import { type RunningBroker, startBroker } from '@fjord/test-support/broker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from './rawClient.js';

let broker: RunningBroker;
let client: RawClient;
beforeAll(async () => {
  broker = await startBroker();
  client = await RawClient.connect(broker.port);
});
afterAll(async () => {
  client.close();
  await broker.stop();
});

async function roundTrip(topic: string, batch: Buffer): Promise<Buffer> {
  const produced = await client.send(ApiKey.Produce, 7, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 1000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
  });
  expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
  return client.fetchRecords(topic, 0);
}

describe('topic compression.type', () => {
  const records = [
    {
      key: Buffer.from('k'),
      value: Buffer.from('hello '.repeat(50)),
      headers: [{ key: 'h', value: Buffer.from('1') }],
    },
  ];
  const batch = () =>
    buildRecordBatch({
      records,
      compression: CompressionCodec.gzip,
      producerId: 7n,
      producerEpoch: 0,
      baseSequence: 0,
      baseTimestamp: 1234n,
    });

  it('stores client batches as sent when it is "producer"', async () => {
    await broker.broker.services.ensureTopic('as-sent', 1);
    const stored = await roundTrip('as-sent', batch());
    expect(new RecordBatchHeader(stored).compression).toBe(CompressionCodec.gzip);
  });

  it('recompresses to the topic codec, keeping records, timestamps and producer fields', async () => {
    await broker.broker.services.ensureTopic('zstd-topic', 1, { 'compression.type': 'zstd' });
    const stored = await roundTrip('zstd-topic', batch());
    const h = new RecordBatchHeader(stored);
    expect(h.compression).toBe(CompressionCodec.zstd);
    expect(h.isCrcValid()).toBe(true);
    expect([h.producerId, h.producerEpoch, h.baseSequence]).toEqual([7n, 0, 0]);
    const [r] = decodeRecords(stored);
    expect({ key: r!.key, value: r!.value, headers: r!.headers, timestamp: r!.timestamp }).toEqual({
      ...records[0],
      timestamp: 1234n,
    });
  });
});
