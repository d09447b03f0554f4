import { ApiKey, ErrorCode } from '@fjord/protocol';
import { type RunningBroker, removeDir, startBroker } from '@fjord/test-support/broker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from './rawClient.js';

let broker: RunningBroker;
let client: RawClient;
beforeAll(async () => {
  broker = await startBroker();
  client = await RawClient.connect(broker.port);
});
afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

describe('a broker without transactions', () => {
  it('advertises no transaction API, but InitProducerId and FindCoordinator', async () => {
    const versions = await client.send(ApiKey.ApiVersions, 3, {
      clientSoftwareName: 'raw-test',
      clientSoftwareVersion: '1',
    });
    const advertised = new Set(versions.apiKeys.map((k) => k.apiKey));
    for (const key of [
      ApiKey.AddPartitionsToTxn,
      ApiKey.AddOffsetsToTxn,
      ApiKey.EndTxn,
      ApiKey.TxnOffsetCommit,
      ApiKey.DescribeTransactions,
      ApiKey.ListTransactions,
    ])
      expect(advertised.has(key), `api ${key}`).toBe(false);
    expect(advertised.has(ApiKey.InitProducerId)).toBe(true);
    expect(advertised.has(ApiKey.FindCoordinator)).toBe(true);
  });

  it('answers FindCoordinator(TRANSACTION) with the non-retriable TRANSACTIONAL_ID_AUTHORIZATION_FAILED and says why', async () => {
    const found = await client.send(ApiKey.FindCoordinator, 3, {
      key: 'tx',
      keyType: 1,
      coordinatorKeys: [],
    });
    expect(found).toMatchObject({
      errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
      errorMessage: expect.stringContaining('Transactions are not supported'),
      nodeId: -1,
    });
    const unknownType = await client.send(ApiKey.FindCoordinator, 3, {
      key: 'x',
      keyType: 7,
      coordinatorKeys: [],
    });
    expect(unknownType.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const group = await client.send(ApiKey.FindCoordinator, 3, { key: 'g', keyType: 0, coordinatorKeys: [] });
    expect(group).toMatchObject({ errorCode: ErrorCode.NONE, nodeId: 1 });
  });

  it('refuses InitProducerId with a transactional id, and gives idempotent producers an id', async () => {
    const transactional = await client.send(ApiKey.InitProducerId, 4, {
      transactionalId: 'tx',
      transactionTimeoutMs: 60_000,
    });
    expect(transactional.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const idempotent = await client.send(ApiKey.InitProducerId, 4, {
      transactionalId: null,
      transactionTimeoutMs: 60_000,
    });
    expect(idempotent.errorCode).toBe(ErrorCode.NONE);
    expect(idempotent.producerId).toBeGreaterThanOrEqual(0n);
  });

  it('answers a transaction API sent anyway with UNSUPPORTED_VERSION', async () => {
    const ended = await client.send(ApiKey.EndTxn, 3, {
      transactionalId: 'tx',
      producerId: 1n,
      producerEpoch: 0,
      committed: true,
    });
    expect(ended.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
  });
});
