import { ApiKey, buildRecordBatch } from '@fjord/protocol';
import { type RunningBroker, startBroker } from '@fjord/test-support/broker';
import { afterAll, describe, expect, it } from 'vitest';
import { RawClient } from './rawClient.js';

describe('ListOffsets', () => {
  let broker: RunningBroker;
  let client: RawClient;
  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  it('answers earliest, latest, max-timestamp and by-time queries like Kafka', async () => {
    broker = await startBroker();
    await broker.broker.services.ensureTopic('times', 1);
    client = await RawClient.connect(broker.port);
    // Offsets 0..3; the second batch holds two records (2000 and 2500).
    const batches = [
      buildRecordBatch({ records: [{ value: Buffer.from('a'), timestamp: 1000n }] }),
      buildRecordBatch({
        records: [
          { value: Buffer.from('b'), timestamp: 2000n },
          { value: Buffer.from('c'), timestamp: 2500n },
        ],
      }),
      buildRecordBatch({ records: [{ value: Buffer.from('d'), timestamp: 3000n }] }),
    ];
    for (const records of batches)
      await client.send(ApiKey.Produce, 7, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1000,
        topicData: [{ name: 'times', partitionData: [{ index: 0, records }] }],
      });
    const query = async (version: number, timestamp: bigint) => {
      const r = await client.send(ApiKey.ListOffsets, version, {
        replicaId: -1,
        isolationLevel: 0,
        timeoutMs: 1000,
        topics: [
          {
            name: 'times',
            partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }],
          },
        ],
      });
      const p = r.topics[0]!.partitions[0]!;
      return version === 0 ? p.oldStyleOffsets : [p.offset, p.timestamp];
    };
    expect(await query(1, -2n)).toEqual([0n, -1n]);
    expect(await query(1, -1n)).toEqual([4n, -1n]);
    expect(await query(1, 1500n)).toEqual([1n, 2000n]);
    expect(await query(1, 2200n)).toEqual([2n, 2500n]); // inside a batch: the record, not the batch
    expect(await query(1, 9999n)).toEqual([-1n, -1n]);
    expect(await query(7, -3n)).toEqual([3n, 3000n]);
    expect(await query(0, -1n)).toEqual([4n]);
  });
});
