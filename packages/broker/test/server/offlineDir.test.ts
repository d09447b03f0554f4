import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKey, buildRecordBatch, ErrorCode } from '@fjord/protocol';
import { type RunningBroker, startBroker } from '@fjord/test-support/broker';
import { afterAll, describe, expect, it } from 'vitest';
import { RawClient } from './rawClient.js';

describe('a failed log dir (JBOD)', () => {
  let broker: RunningBroker;
  let client: RawClient;
  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  it('takes only its partitions offline; the others keep serving', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fjord-jbod-'));
    const dirs = [join(root, 'd1'), join(root, 'd2')];
    broker = await startBroker({ 'log.dirs': dirs.join(',') }, root);
    const services = broker.broker.services;
    await services.ensureTopic('jbod', 2);
    const dirOf = (p: number) => services.logs.dirOf('jbod', p)!;
    expect(new Set([dirOf(0), dirOf(1)]).size).toBe(2); // placed in different dirs
    client = await RawClient.connect(broker.port);
    const produce = (partition: number) =>
      client.send(ApiKey.Produce, 7, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1000,
        topicData: [
          {
            name: 'jbod',
            partitionData: [
              { index: partition, records: buildRecordBatch({ records: [{ value: Buffer.from('x') }] }) },
            ],
          },
        ],
      });
    const errorOf = async (partition: number) =>
      (await produce(partition)).responses[0]!.partitionResponses[0]!.errorCode;
    expect(await errorOf(0)).toBe(ErrorCode.NONE);
    expect(await errorOf(1)).toBe(ErrorCode.NONE);

    const failed = dirOf(0);
    const healthy = dirOf(1);
    rmSync(failed, { recursive: true, force: true });
    services.logs.checkDirs();

    expect(await errorOf(0)).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(await errorOf(1)).toBe(ErrorCode.NONE);
    const described = await client.send(ApiKey.DescribeLogDirs, 1, { topics: null });
    const byDir = new Map(described.results.map((r) => [r.logDir, r.errorCode]));
    expect(byDir.get(failed)).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(byDir.get(healthy)).toBe(ErrorCode.NONE);
  });
});
