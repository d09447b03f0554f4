import { ApiKey, buildRecordBatch, ErrorCode } from '@fjord/protocol';
import { type RunningBroker, removeDir, startBroker } from '@fjord/test-support/broker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from './rawClient.js';

/**
 * producer.id.expiration.ms on a running broker (Kafka's PeriodicProducerExpirationCheck): the
 * check runs every producer.id.expiration.check.interval.ms with the value in force at that
 * moment, a dynamic broker config included; it drops idle producers' state and keeps that of a
 * producer whose transaction is still open in the partition.
 */
let broker: RunningBroker;
let client: RawClient;
const TOPIC = 'pid-expiry';

beforeAll(async () => {
  // The check runs often here; the expiration itself keeps Kafka's default (a day) until altered.
  broker = await startBroker({ 'producer.id.expiration.check.interval.ms': '50' });
  await broker.broker.services.ensureTopic(TOPIC, 1);
  client = await RawClient.connect(broker.port);
});
afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

/** InitProducerId (v4), retried while the transaction coordinator is loading. */
async function initProducerId(transactionalId: string | null) {
  for (;;) {
    const r = await client.send(ApiKey.InitProducerId, 4, {
      transactionalId,
      transactionTimeoutMs: 60_000,
      producerId: -1n,
      producerEpoch: -1,
    });
    if (r.errorCode === ErrorCode.NONE) return r;
    if (
      r.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS &&
      r.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE &&
      r.errorCode !== ErrorCode.NOT_COORDINATOR &&
      r.errorCode !== ErrorCode.CONCURRENT_TRANSACTIONS
    )
      throw new Error(`InitProducerId: error ${r.errorCode}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Produces one record as the producer; returns the partition's error code. */
async function produce(
  producerId: bigint,
  producerEpoch: number,
  baseSequence: number,
  transactionalId: string | null = null,
): Promise<number> {
  const r = await client.send(ApiKey.Produce, 8, {
    transactionalId,
    acks: -1,
    timeoutMs: 5000,
    topicData: [
      {
        name: TOPIC,
        partitionData: [
          {
            index: 0,
            records: buildRecordBatch({
              records: [{ value: Buffer.from(`seq-${baseSequence}`) }],
              producerId,
              producerEpoch,
              baseSequence,
              transactional: transactionalId !== null,
            }),
          },
        ],
      },
    ],
  });
  return r.responses[0]!.partitionResponses[0]!.errorCode;
}

async function activeProducers(): Promise<bigint[]> {
  const r = await client.send(ApiKey.DescribeProducers, 0, {
    topics: [{ name: TOPIC, partitionIndexes: [0] }],
  });
  return r.topics[0]!.partitions[0]!.activeProducers.map((p) => p.producerId);
}

async function alterExpiration(value: string): Promise<void> {
  const r = await client.send(ApiKey.IncrementalAlterConfigs, 1, {
    resources: [
      {
        resourceType: 4,
        resourceName: '', // the cluster-wide default, as `kafka-configs --entity-default` sets it
        configs: [{ name: 'producer.id.expiration.ms', configOperation: 0, value }],
      },
    ],
    validateOnly: false,
  });
  expect(r.responses[0]!.errorCode).toBe(ErrorCode.NONE);
}

/** Polls until `done` holds; the deadline only detects a check that never runs. */
async function eventually(done: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('producer.id.expiration.ms', () => {
  it('drops idle producers at the next check once a dynamic value says so, never one mid-transaction', async () => {
    const idempotent = await initProducerId(null);
    expect(await produce(idempotent.producerId, idempotent.producerEpoch, 0)).toBe(ErrorCode.NONE);

    await client.send(ApiKey.FindCoordinator, 3, { key: 'tx-open', keyType: 1, coordinatorKeys: [] });
    const txn = await initProducerId('tx-open');
    const added = await client.send(ApiKey.AddPartitionsToTxn, 3, {
      transactions: [],
      v3AndBelowTransactionalId: 'tx-open',
      v3AndBelowProducerId: txn.producerId,
      v3AndBelowProducerEpoch: txn.producerEpoch,
      v3AndBelowTopics: [{ name: TOPIC, partitions: [0] }],
    });
    expect(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(ErrorCode.NONE);
    expect(await produce(txn.producerId, txn.producerEpoch, 0, 'tx-open')).toBe(ErrorCode.NONE);

    // Many checks run (every 50 ms) under the default expiration of a day: both stay.
    await new Promise((res) => setTimeout(res, 500));
    expect((await activeProducers()).sort()).toEqual([idempotent.producerId, txn.producerId].sort());

    await alterExpiration('100');
    await eventually(
      async () => !(await activeProducers()).includes(idempotent.producerId),
      'the idle idempotent producer to expire',
    );
    // The open transaction keeps its producer's state, however long it has been idle.
    await new Promise((res) => setTimeout(res, 300));
    expect(await activeProducers()).toContain(txn.producerId);

    // Its next sequence is no longer known: the broker says so as Kafka does.
    expect(await produce(idempotent.producerId, idempotent.producerEpoch, 1)).toBe(
      ErrorCode.UNKNOWN_PRODUCER_ID,
    );

    // Once its transaction ends, that producer expires too.
    const ended = await client.send(ApiKey.EndTxn, 3, {
      transactionalId: 'tx-open',
      producerId: txn.producerId,
      producerEpoch: txn.producerEpoch,
      committed: true,
    });
    expect(ended.errorCode).toBe(ErrorCode.NONE);
    await eventually(
      async () => !(await activeProducers()).includes(txn.producerId),
      'the producer whose transaction ended to expire',
    );
  }, 120_000);
});
