import { ApiKey, buildRecordBatch, ErrorCode } from '@fjord/protocol';
import { type RunningBroker, startBroker } from '@fjord/test-support/broker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from './rawClient.js';

let broker: RunningBroker;
let client: RawClient;

beforeAll(async () => {
  broker = await startBroker();
  await broker.broker.services.ensureTopic('s', 2);
  client = await RawClient.connect(broker.port);
});
afterAll(async () => {
  client.close();
  await broker.stop();
});

const produce = (partition: number, values: string[]) =>
  client.send(ApiKey.Produce, 7, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 1000,
    topicData: [
      {
        name: 's',
        partitionData: [
          {
            index: partition,
            records: buildRecordBatch({ records: values.map((v) => ({ value: Buffer.from(v) })) }),
          },
        ],
      },
    ],
  });

const fetch = (
  sessionId: number,
  sessionEpoch: number,
  partitions: (number | [number, bigint])[],
  opts: { forget?: number[]; maxWaitMs?: number } = {},
) =>
  client.send(ApiKey.Fetch, 12, {
    replicaId: -1,
    maxWaitMs: opts.maxWaitMs ?? 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId,
    sessionEpoch,
    topics: partitions.length
      ? [
          {
            topic: 's',
            topicId: '00000000-0000-0000-0000-000000000000',
            partitions: partitions.map((p) => ({
              partition: typeof p === 'number' ? p : p[0],
              currentLeaderEpoch: -1,
              fetchOffset: typeof p === 'number' ? 0n : p[1],
              lastFetchedEpoch: -1,
              logStartOffset: -1n,
              partitionMaxBytes: 1 << 20,
            })),
          },
        ]
      : [],
    forgottenTopicsData: opts.forget
      ? [{ topic: 's', topicId: '00000000-0000-0000-0000-000000000000', partitions: opts.forget }]
      : [],
    rackId: '',
  });

const sentPartitions = (r: Awaited<ReturnType<typeof fetch>>) =>
  r.responses.flatMap((t) => t.partitions.map((p) => p.partitionIndex)).sort();

describe('incremental fetch sessions (KIP-227)', () => {
  it('opens a session, then sends only partitions with news', async () => {
    await produce(0, ['a', 'b', 'c']);
    const full = await fetch(0, 0, [0, 1]);
    expect(full.errorCode).toBe(ErrorCode.NONE);
    expect(full.sessionId).toBeGreaterThan(0);
    expect(sentPartitions(full)).toEqual([0, 1]);
    const id = full.sessionId;

    // The client consumed partition 0 and says so; nothing else changed, so nothing comes back.
    expect(sentPartitions(await fetch(id, 1, [[0, 3n]]))).toEqual([]);

    // New data on partition 1 only: only partition 1 comes back.
    await produce(1, ['x']);
    const inc = await fetch(id, 2, []);
    expect(sentPartitions(inc)).toEqual([1]);
    expect(inc.responses[0]!.partitions[0]!.highWatermark).toBe(1n);

    // Wrong epoch and unknown session are refused with Kafka's errors.
    expect((await fetch(id, 9, [])).errorCode).toBe(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    expect((await fetch(987654, 1, [])).errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);

    // A forgotten partition is no longer reported.
    await fetch(id, 3, [], { forget: [1] });
    expect(sentPartitions(await fetch(id, 4, []))).toEqual([]);
    await produce(1, ['y']);
    expect(sentPartitions(await fetch(id, 5, []))).toEqual([]);

    // Long polling inside a session wakes up when data arrives.
    const started = Date.now();
    const waiting = fetch(id, 6, [], { maxWaitMs: 5000 });
    setTimeout(() => void produce(0, ['d']), 200);
    const woke = await waiting;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(sentPartitions(woke)).toEqual([0]);

    // Epoch -1 closes the session; the next incremental fetch finds nothing.
    const closed = await fetch(id, -1, [0]);
    expect(closed.sessionId).toBe(0);
    expect((await fetch(id, 7, [])).errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });
});
