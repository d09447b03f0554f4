import { ApiKey, ErrorCode, ZERO_UUID } from '@fjord/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../../../test/compat/brokerHarness.js';
import { RawClient } from './rawClient.js';

describe('Fetch errors', () => {
  let broker: RunningBroker;
  let client: RawClient;
  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  it('come with an empty record set, never a null one (librdkafka cannot parse null)', async () => {
    broker = await startBroker();
    await broker.broker.services.ensureTopic('fe', 1);
    client = await RawClient.connect(broker.port);
    const fetch = (topic: string, partition: number, offset: bigint) =>
      client.send(ApiKey.Fetch, 11, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          {
            topic,
            topicId: ZERO_UUID,
            partitions: [
              {
                partition,
                currentLeaderEpoch: -1,
                fetchOffset: offset,
                lastFetchedEpoch: -1,
                logStartOffset: -1n,
                partitionMaxBytes: 1 << 20,
              },
            ],
          },
        ],
        forgottenTopicsData: [],
        rackId: '',
      });
    for (const [topic, partition, offset, error] of [
      ['nope', 0, 0n, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['fe', 7, 0n, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['fe', 0, 99n, ErrorCode.OFFSET_OUT_OF_RANGE],
    ] as const) {
      const p = (await fetch(topic, partition, offset)).responses[0]!.partitions[0]!;
      expect(p.errorCode).toBe(error);
      expect(p.records).toEqual(Buffer.alloc(0));
    }
  });
});
