import { ErrorCode } from '@fjord/protocol';
import { type RunningBroker, startBroker } from '@fjord/test-support/broker';
import { afterAll, describe, expect, it } from 'vitest';
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
    for (const [topic, partition, offset, error] of [
      ['nope', 0, 0n, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['fe', 7, 0n, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['fe', 0, 99n, ErrorCode.OFFSET_OUT_OF_RANGE],
    ] as const) {
      const p = await client.fetchPartition(topic, partition, offset);
      expect(p.errorCode).toBe(error);
      expect(p.records).toEqual(Buffer.alloc(0));
    }
  });
});
