import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKey, buildRecordBatch, decodeRecords, ErrorCode } from '@fjord/protocol';
import { type RunningBroker, startBroker } from '@fjord/test-support/broker';
import { afterAll, describe, expect, it } from 'vitest';
import { RawClient } from './rawClient.js';

describe('AlterReplicaLogDirs', () => {
  let broker: RunningBroker;
  let client: RawClient;
  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  it('moves a replica to another log dir with its records, and it keeps serving from there', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fjord-move-'));
    const dirs = [join(root, 'd1'), join(root, 'd2')];
    broker = await startBroker({ 'log.dirs': dirs.join(',') }, root);
    await broker.broker.services.ensureTopic('mv', 1);
    client = await RawClient.connect(broker.port);
    const produce = (value: string) =>
      client.send(ApiKey.Produce, 7, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1000,
        topicData: [
          {
            name: 'mv',
            partitionData: [
              { index: 0, records: buildRecordBatch({ records: [{ value: Buffer.from(value) }] }) },
            ],
          },
        ],
      });
    for (const v of ['a', 'b', 'c']) await produce(v);
    const from = broker.broker.services.logs.dirOf('mv', 0)!;
    const to = dirs.find((d) => d !== from)!;

    const move = (path: string, topic: string, partition: number) =>
      client.send(ApiKey.AlterReplicaLogDirs, 2, {
        dirs: [{ path, topics: [{ name: topic, partitions: [partition] }] }],
      });
    const codeOf = async (path: string, topic: string, partition: number) =>
      (await move(path, topic, partition)).results[0]!.partitions[0]!.errorCode;
    expect(await codeOf(join(root, 'nope'), 'mv', 0)).toBe(ErrorCode.LOG_DIR_NOT_FOUND);
    expect(await codeOf(to, 'mv', 9)).toBe(ErrorCode.REPLICA_NOT_AVAILABLE);
    expect(await codeOf(to, 'mv', 0)).toBe(ErrorCode.NONE);

    const described = await client.send(ApiKey.DescribeLogDirs, 1, { topics: null });
    const holding = described.results
      .filter((r) => r.topics.some((t) => t.name === 'mv'))
      .map((r) => r.logDir);
    expect(holding).toEqual([to]);
    await produce('d');
    const values = (data: Buffer) => [...decodeRecords(data, 0)].map((r) => r.value?.toString());
    const all: (string | undefined)[] = [];
    for (let offset = 0n; offset < 4n; offset++)
      all.push(...values(await client.fetchRecords('mv', 0, offset)).slice(0, 1));
    expect(all).toEqual(['a', 'b', 'c', 'd']);
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(join(from, 'mv-0'))).toBe(false);

    // After a restart the partition is found where it moved to.
    client.close();
    broker = await broker.restart();
    client = await RawClient.connect(broker.port);
    expect(broker.broker.services.logs.dirOf('mv', 0)).toBe(to);
    expect(values(await client.fetchRecords('mv', 0, 3n))).toEqual(['d']);
  });
});
