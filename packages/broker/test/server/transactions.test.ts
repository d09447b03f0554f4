import {
  ApiKey,
  batchOffsets,
  buildRecordBatch,
  decodeRecords,
  ErrorCode,
  RecordBatchHeader,
} from '@fjord/protocol';
import { type RunningBroker, removeDir, startBroker } from '@fjord/test-support/broker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from './rawClient.js';

/**
 * The transaction APIs on the wire, against one broker: Kafka's error codes for each misuse,
 * the last stable offset and aborted transactions a read_committed fetch relies on, the
 * timeout that aborts a forgotten transaction, and state that survives a restart.
 */
let broker: RunningBroker;
let client: RawClient;
const TOPIC = 'txn-raw';
const overrides = {
  // The cleanup task runs often here so that a timed-out transaction is aborted soon.
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': '100',
};
beforeAll(async () => {
  broker = await startBroker(overrides);
  await broker.broker.services.ensureTopic(TOPIC, 1);
  client = await RawClient.connect(broker.port);
});
afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

async function findCoordinator(key: string) {
  return client.send(ApiKey.FindCoordinator, 3, { key, keyType: 1, coordinatorKeys: [] });
}

/** InitProducerId (v4) for a transactional id, retried while the coordinator is busy or loading. */
async function initProducerId(transactionalId: string, timeoutMs = 60_000, version = 4) {
  for (;;) {
    const r = await client.send(ApiKey.InitProducerId, version, {
      transactionalId,
      transactionTimeoutMs: timeoutMs,
      producerId: -1n,
      producerEpoch: -1,
    });
    if (
      r.errorCode !== ErrorCode.CONCURRENT_TRANSACTIONS &&
      r.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
    )
      return r;
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function addPartition(
  transactionalId: string,
  producerId: bigint,
  producerEpoch: number,
  topic = TOPIC,
) {
  const r = await client.send(ApiKey.AddPartitionsToTxn, 3, {
    transactions: [],
    v3AndBelowTransactionalId: transactionalId,
    v3AndBelowProducerId: producerId,
    v3AndBelowProducerEpoch: producerEpoch,
    v3AndBelowTopics: [{ name: topic, partitions: [0] }],
  });
  return r.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode;
}

async function produce(
  values: string[],
  producer?: { transactionalId: string; producerId: bigint; producerEpoch: number; baseSequence: number },
) {
  const r = await client.send(ApiKey.Produce, 8, {
    transactionalId: producer?.transactionalId ?? null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [
      {
        name: TOPIC,
        partitionData: [
          {
            index: 0,
            records: buildRecordBatch({
              records: values.map((v) => ({ value: Buffer.from(v) })),
              ...(producer && {
                producerId: producer.producerId,
                producerEpoch: producer.producerEpoch,
                baseSequence: producer.baseSequence,
                transactional: true,
              }),
            }),
          },
        ],
      },
    ],
  });
  const p = r.responses[0]!.partitionResponses[0]!;
  expect(p.errorCode).toBe(ErrorCode.NONE);
  return Number(p.baseOffset);
}

async function endTxn(
  transactionalId: string,
  producerId: bigint,
  producerEpoch: number,
  committed: boolean,
  version = 3,
) {
  return (
    await client.send(ApiKey.EndTxn, version, { transactionalId, producerId, producerEpoch, committed })
  ).errorCode;
}

async function latest(isolationLevel: number): Promise<bigint> {
  const r = await client.send(ApiKey.ListOffsets, 5, {
    replicaId: -1,
    isolationLevel,
    timeoutMs: 0,
    topics: [
      {
        name: TOPIC,
        partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }],
      },
    ],
  });
  return r.topics[0]!.partitions[0]!.offset;
}

/** Waits (bounded generously) until the partition has no open transaction. */
async function awaitStable(): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await latest(1)) !== (await latest(0))) {
    if (Date.now() > deadline) throw new Error('the transaction was never completed');
    await new Promise((res) => setTimeout(res, 50));
  }
}

function values(records: Buffer): string[] {
  const out: string[] = [];
  for (const pos of batchOffsets(records)) {
    if (new RecordBatchHeader(records, pos).isControl) continue;
    for (const r of decodeRecords(records, pos)) out.push(r.value!.toString());
  }
  return out;
}

describe('the transaction coordinator on the wire', () => {
  it('advertises the transaction APIs and answers FindCoordinator(TRANSACTION)', async () => {
    const versions = await client.send(ApiKey.ApiVersions, 3, {
      clientSoftwareName: 'raw',
      clientSoftwareVersion: '1',
    });
    const advertised = new Set(versions.apiKeys.map((k) => k.apiKey));
    for (const key of [
      ApiKey.AddPartitionsToTxn,
      ApiKey.AddOffsetsToTxn,
      ApiKey.EndTxn,
      ApiKey.TxnOffsetCommit,
    ])
      expect(advertised.has(key), `api ${key}`).toBe(true);
    expect(await findCoordinator('tx-a')).toMatchObject({ errorCode: ErrorCode.NONE, nodeId: 1 });
    const unknownType = await client.send(ApiKey.FindCoordinator, 3, {
      key: 'x',
      keyType: 7,
      coordinatorKeys: [],
    });
    expect(unknownType.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it("bumps the epoch on every InitProducerId and answers an old epoch with Kafka's fencing error for its version", async () => {
    await findCoordinator('tx-fence');
    expect((await initProducerId('tx-fence', 0)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    expect((await initProducerId('tx-fence', 900_001)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    const first = await initProducerId('tx-fence');
    expect(first).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 0 });
    const second = await initProducerId('tx-fence');
    expect(second).toMatchObject({
      errorCode: ErrorCode.NONE,
      producerId: first.producerId,
      producerEpoch: 1,
    });
    expect(await endTxn('tx-fence', first.producerId, 0, true, 3)).toBe(ErrorCode.PRODUCER_FENCED);
    expect(await endTxn('tx-fence', first.producerId, 0, true, 1)).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(await addPartition('tx-fence', first.producerId, 0)).toBe(ErrorCode.PRODUCER_FENCED);
    expect(await endTxn('tx-fence', first.producerId + 1000n, 1, true)).toBe(
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    expect(await endTxn('tx-unknown', 1n, 0, true)).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    // Nothing was added: there is no transaction to commit.
    expect(await endTxn('tx-fence', second.producerId, 1, true)).toBe(ErrorCode.INVALID_TXN_STATE);
    const unknownTopic = await client.send(ApiKey.AddPartitionsToTxn, 3, {
      transactions: [],
      v3AndBelowTransactionalId: 'tx-fence',
      v3AndBelowProducerId: second.producerId,
      v3AndBelowProducerEpoch: 1,
      v3AndBelowTopics: [
        { name: TOPIC, partitions: [0] },
        { name: 'no-such-topic', partitions: [0] },
      ],
    });
    expect(
      unknownTopic.resultsByTopicV3AndBelow.map((t) => t.resultsByPartition[0]!.partitionErrorCode),
    ).toEqual([ErrorCode.OPERATION_NOT_ATTEMPTED, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  });

  it('answers InitProducerId with a known producer id and epoch as Kafka does (KIP-360)', async () => {
    await findCoordinator('tx-kip360');
    const init = async (producerId: bigint, producerEpoch: number) => {
      for (;;) {
        const r = await client.send(ApiKey.InitProducerId, 5, {
          transactionalId: 'tx-kip360',
          transactionTimeoutMs: 60_000,
          producerId,
          producerEpoch,
        });
        if (r.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return r;
        await new Promise((res) => setTimeout(res, 50));
      }
    };
    // A new transactional id accepts whatever id the producer held before (e.g. an idempotent one).
    const first = await init(0n, 0);
    expect(first).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 0 });
    const bumped = await init(first.producerId, 0);
    expect(bumped).toMatchObject({
      errorCode: ErrorCode.NONE,
      producerId: first.producerId,
      producerEpoch: 1,
    });
    // The retry of that bump (its answer lost) gets the same answer, not another bump.
    expect(await init(first.producerId, 0)).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 1 });
    expect((await init(first.producerId, 7)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await init(first.producerId + 1000n, 1)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });

  it('gives an idempotent producer a fresh id whatever id and epoch it names, as Kafka does', async () => {
    const init = () =>
      client.send(ApiKey.InitProducerId, 4, {
        transactionalId: null,
        transactionTimeoutMs: 60_000,
        producerId: 0n, // what @platformatic/kafka sends
        producerEpoch: 0,
      });
    const a = await init();
    const b = await init();
    expect(a).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 0 });
    expect(b).toMatchObject({ errorCode: ErrorCode.NONE, producerEpoch: 0 });
    expect(b.producerId).not.toBe(a.producerId);
  });

  it('holds the last stable offset at an open transaction and reports aborted ones to read_committed', async () => {
    await findCoordinator('tx-lso');
    const { producerId, producerEpoch } = await initProducerId('tx-lso');
    const before = await produce(['plain-1']);
    expect(await addPartition('tx-lso', producerId, producerEpoch)).toBe(ErrorCode.NONE);
    const txnStart = await produce(['open-1', 'open-2'], {
      transactionalId: 'tx-lso',
      producerId,
      producerEpoch,
      baseSequence: 0,
    });
    await produce(['plain-2']);
    // Open: read_committed stops at the transaction's first offset; read_uncommitted at the HW.
    expect(await latest(1)).toBe(BigInt(txnStart));
    expect(await latest(0)).toBe(BigInt(txnStart + 3));
    const open = await client.fetchPartition(TOPIC, 0, BigInt(before), 1);
    expect(open.lastStableOffset).toBe(BigInt(txnStart));
    expect(values(open.records!)).toEqual(['plain-1']);

    // The admin APIs of KIP-664 see the open transaction.
    const described = await client.send(ApiKey.DescribeTransactions, 0, {
      transactionalIds: ['tx-lso', 'tx-none'],
    });
    expect(described.transactionStates).toEqual([
      expect.objectContaining({
        errorCode: ErrorCode.NONE,
        transactionState: 'Ongoing',
        producerId,
        producerEpoch,
        topics: [{ topic: TOPIC, partitions: [0] }],
      }),
      expect.objectContaining({
        transactionalId: 'tx-none',
        errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND,
      }),
    ]);
    const listed = await client.send(ApiKey.ListTransactions, 1, {
      stateFilters: ['Ongoing', 'Bogus'],
      producerIdFilters: [],
      durationFilter: -1n,
    });
    expect(listed.unknownStateFilters).toEqual(['Bogus']);
    expect(listed.transactionStates).toEqual([
      { transactionalId: 'tx-lso', producerId, transactionState: 'Ongoing' },
    ]);
    const producers = await client.send(ApiKey.DescribeProducers, 0, {
      topics: [{ name: TOPIC, partitionIndexes: [0] }],
    });
    expect(producers.topics[0]!.partitions[0]!.activeProducers).toContainEqual(
      expect.objectContaining({
        producerId,
        producerEpoch,
        lastSequence: 1,
        currentTxnStartOffset: BigInt(txnStart),
      }),
    );

    expect(await endTxn('tx-lso', producerId, producerEpoch, false)).toBe(ErrorCode.NONE);
    await awaitStable();
    const done = await client.fetchPartition(TOPIC, 0, BigInt(before), 1);
    expect(done.abortedTransactions).toEqual([{ producerId, firstOffset: BigInt(txnStart) }]);
    // The client drops the aborted records; the broker sends them with the list.
    expect(values(done.records!)).toEqual(['plain-1', 'open-1', 'open-2', 'plain-2']);
    expect((await client.fetchPartition(TOPIC, 0, BigInt(before), 0)).abortedTransactions).toEqual([]);

    // A marker from an older coordinator epoch than the one that wrote the abort is refused.
    const writeMarker = async (coordinatorEpoch: number) =>
      (
        await client.send(ApiKey.WriteTxnMarkers, 1, {
          markers: [
            {
              producerId,
              producerEpoch,
              transactionResult: true,
              coordinatorEpoch,
              topics: [{ name: TOPIC, partitionIndexes: [0] }],
            },
          ],
        })
      ).markers[0]!.topics[0]!.partitions[0]!.errorCode;
    expect(await writeMarker(-1)).toBe(ErrorCode.TRANSACTION_COORDINATOR_FENCED);
    expect(await writeMarker(1000)).toBe(ErrorCode.NONE);
    const afterMarkers = await client.send(ApiKey.DescribeProducers, 0, {
      topics: [{ name: TOPIC, partitionIndexes: [0] }],
    });
    expect(afterMarkers.topics[0]!.partitions[0]!.activeProducers).toContainEqual(
      expect.objectContaining({ producerId, coordinatorEpoch: 1000, currentTxnStartOffset: -1n }),
    );
  });

  it('answers a require_stable OffsetFetch with UNSTABLE_OFFSET_COMMIT while a transaction holds offsets (KIP-447)', async () => {
    const group = 'txn-stable-group';
    await findCoordinator('tx-stable');
    const { producerId, producerEpoch } = await initProducerId('tx-stable');
    const addOffsets = await client.send(ApiKey.AddOffsetsToTxn, 1, {
      transactionalId: 'tx-stable',
      producerId,
      producerEpoch,
      groupId: group,
    });
    expect(addOffsets.errorCode).toBe(ErrorCode.NONE);
    const committed = await client.send(ApiKey.TxnOffsetCommit, 2, {
      transactionalId: 'tx-stable',
      groupId: group,
      producerId,
      producerEpoch,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        {
          name: TOPIC,
          partitions: [
            { partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: -1, committedMetadata: '' },
          ],
        },
      ],
    });
    expect(committed.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    const fetchOffset = async (requireStable: boolean) =>
      (
        await client.send(ApiKey.OffsetFetch, 7, {
          groupId: group,
          topics: [{ name: TOPIC, partitionIndexes: [0] }],
          groups: [],
          requireStable,
        })
      ).topics[0]!.partitions[0]!;
    // Pending: a stable read is refused (the client retries); a plain read sees the old offset.
    expect(await fetchOffset(true)).toMatchObject({
      errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
      committedOffset: -1n,
    });
    expect(await fetchOffset(false)).toMatchObject({ errorCode: ErrorCode.NONE, committedOffset: -1n });
    expect(await endTxn('tx-stable', producerId, producerEpoch, true)).toBe(ErrorCode.NONE);
    const deadline = Date.now() + 30_000;
    while ((await fetchOffset(true)).errorCode === ErrorCode.UNSTABLE_OFFSET_COMMIT) {
      if (Date.now() > deadline) throw new Error('the commit marker never reached the offsets');
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(await fetchOffset(true)).toMatchObject({ errorCode: ErrorCode.NONE, committedOffset: 42n });
  });

  it('aborts a transaction open past its timeout and fences its producer', async () => {
    await findCoordinator('tx-timeout');
    const { producerId, producerEpoch } = await initProducerId('tx-timeout', 500);
    expect(await addPartition('tx-timeout', producerId, producerEpoch)).toBe(ErrorCode.NONE);
    await produce(['forgotten'], {
      transactionalId: 'tx-timeout',
      producerId,
      producerEpoch,
      baseSequence: 0,
    });
    await awaitStable();
    expect(await endTxn('tx-timeout', producerId, producerEpoch, true)).toBe(ErrorCode.PRODUCER_FENCED);
    const next = await initProducerId('tx-timeout', 500);
    expect(next).toMatchObject({ errorCode: ErrorCode.NONE, producerId });
    expect(next.producerEpoch).toBeGreaterThan(producerEpoch + 1);
  });
});

describe('after a restart', () => {
  it('reloads transactional ids from __transaction_state, and completes a prepared commit', async () => {
    await findCoordinator('tx-restart');
    const { producerId, producerEpoch } = await initProducerId('tx-restart');
    expect(await addPartition('tx-restart', producerId, producerEpoch)).toBe(ErrorCode.NONE);
    const first = await produce(['restart-1'], {
      transactionalId: 'tx-restart',
      producerId,
      producerEpoch,
      baseSequence: 0,
    });
    // Committed just before the stop: the markers may or may not be written yet.
    expect(await endTxn('tx-restart', producerId, producerEpoch, true)).toBe(ErrorCode.NONE);
    client.close();
    const { dataDir, port } = broker;
    await broker.stop();
    broker = await startBroker(overrides, dataDir, { PLAINTEXT: port });
    client = await RawClient.connect(broker.port);
    await findCoordinator('tx-restart');
    await awaitStable();
    const fetched = await client.fetchPartition(TOPIC, 0, BigInt(first), 1);
    expect(values(fetched.records!)).toEqual(['restart-1']);
    // The aborted transaction of the earlier test is still known (rebuilt from the log).
    const all = await client.fetchPartition(TOPIC, 0, 0n, 1);
    expect(all.abortedTransactions?.length ?? 0).toBeGreaterThanOrEqual(1);
    const again = await initProducerId('tx-restart');
    expect(again).toMatchObject({ errorCode: ErrorCode.NONE, producerId, producerEpoch: producerEpoch + 1 });
  });
});
