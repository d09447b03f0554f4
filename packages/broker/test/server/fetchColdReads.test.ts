import { ApiKey, buildRecordBatch } from '@fjord/protocol';
import { type RunningBroker, startBroker } from '@fjord/test-support/broker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from './rawClient.js';

// Fetches of data that may not be in the page cache are read through the thread pool
// (docs/adr/0020): the answer must be the same, byte for byte, as the synchronous read's.
let broker: RunningBroker;
let client: RawClient;
const TOPIC = 'cold';

beforeAll(async () => {
  broker = await startBroker();
  await broker.broker.services.ensureTopic(TOPIC, 3);
  client = await RawClient.connect(broker.port);
  for (let i = 0; i < 20; i++)
    for (const partition of [0, 1, 2]) {
      const records = Array.from({ length: 1 + (i % 4) }, (_, j) => ({
        value: Buffer.from(`p${partition}-b${i}-r${j}`.padEnd(200, '.')),
      }));
      await client.send(ApiKey.Produce, 7, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 5_000,
        topicData: [
          { name: TOPIC, partitionData: [{ index: partition, records: buildRecordBatch({ records }) }] },
        ],
      });
    }
});
afterAll(async () => {
  client?.close();
  await broker?.stop();
});

/** Every partition's log reads hot (synchronously) or cold (through the thread pool). */
const readAs = (mode: 'hot' | 'cold') => {
  for (const partition of [0, 1, 2]) {
    const log = broker.broker.services.replicas.get(TOPIC, partition)!.log;
    log.hotTailBytes = mode === 'cold' ? 0 : Number.MAX_SAFE_INTEGER;
  }
};

const fetch = (version: number, offsets: readonly bigint[], partitionMaxBytes: number, maxBytes: number) =>
  client.send(ApiKey.Fetch, version, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: TOPIC,
        topicId: broker.broker.services.metadata.image.topic(TOPIC)!.topicId,
        partitions: offsets.map((fetchOffset, partition) => ({
          partition,
          currentLeaderEpoch: -1,
          fetchOffset,
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes,
        })),
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  });

describe('Fetch of cold data (read off the event loop)', () => {
  it('answers exactly as a synchronous read: limits, first batch whole, old versions down-converted', async () => {
    const cases = [
      { version: 11, offsets: [0n, 0n, 0n], partitionMaxBytes: 1 << 20, maxBytes: 1 << 20 },
      // Partition limit below one batch: the first batch comes whole anyway (KIP-74).
      { version: 11, offsets: [5n, 7n, 0n], partitionMaxBytes: 1, maxBytes: 1 << 20 },
      // The total limit is spent by the first partition: later ones get offsets, no data.
      { version: 11, offsets: [0n, 3n, 9n], partitionMaxBytes: 4_000, maxBytes: 3_000 },
      { version: 12, offsets: [40n, 49n, 1n], partitionMaxBytes: 2_500, maxBytes: 6_000 },
      // Fetch v3 reads magic 1 message sets: down-converted from what was read.
      { version: 3, offsets: [0n, 10n, 20n], partitionMaxBytes: 3_000, maxBytes: 1 << 20 },
      { version: 1, offsets: [2n, 0n, 0n], partitionMaxBytes: 1 << 20, maxBytes: 1 << 20 },
    ];
    for (const c of cases) {
      readAs('hot');
      const hot = await fetch(c.version, c.offsets, c.partitionMaxBytes, c.maxBytes);
      readAs('cold');
      const cold = await fetch(c.version, c.offsets, c.partitionMaxBytes, c.maxBytes);
      expect(cold).toEqual(hot);
      const sizes = hot.responses[0]!.partitions.map((p) => p.records?.length ?? 0);
      expect(sizes.some((n) => n > 0)).toBe(true);
    }
  });

  it('wakes a parked fetch with data appended while it waits, read cold', async () => {
    readAs('cold');
    const end = broker.broker.services.replicas.get(TOPIC, 1)!.log.logEndOffset;
    const parked = client.send(ApiKey.Fetch, 11, {
      replicaId: -1,
      maxWaitMs: 30_000,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: TOPIC,
          topicId: broker.broker.services.metadata.image.topic(TOPIC)!.topicId,
          partitions: [
            {
              partition: 1,
              currentLeaderEpoch: -1,
              fetchOffset: BigInt(end),
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
    const records = buildRecordBatch({ records: [{ value: Buffer.from('late') }] });
    await client.send(ApiKey.Produce, 7, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 5_000,
      topicData: [{ name: TOPIC, partitionData: [{ index: 1, records }] }],
    });
    const r = (await parked).responses[0]!.partitions[0]!;
    expect(r.records!.length).toBe(records.length);
    expect(r.records!.subarray(12 + 4 + 1 + 4)).toEqual(records.subarray(12 + 4 + 1 + 4)); // past offset, epoch, magic, CRC
  });
});
