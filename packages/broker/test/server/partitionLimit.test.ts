import { type RunningBroker, startBroker } from '@fjord/test-support/broker';
import { Admin } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('fjord.instance.partition.limit, whichever client asks', () => {
  let broker: RunningBroker;
  let admin: ReturnType<Kafka['admin']>;
  beforeAll(async () => {
    broker = await startBroker({ 'fjord.instance.partition.limit': '10' });
    admin = new Kafka({
      clientId: 'limit-test',
      brokers: [`127.0.0.1:${broker.port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.disconnect();
    await broker?.stop();
  });

  it('creates topics up to the limit and refuses the rest with POLICY_VIOLATION, creating nothing', async () => {
    expect(await admin.createTopics({ topics: [{ topic: 'a', numPartitions: 6 }] })).toBe(true);
    const refused = admin.createTopics({ topics: [{ topic: 'b', numPartitions: 5 }] });
    await expect(refused).rejects.toMatchObject({
      errors: [expect.objectContaining({ type: 'POLICY_VIOLATION' })],
    });
    expect(await admin.listTopics()).not.toContain('b');
    expect(await admin.createTopics({ topics: [{ topic: 'c', numPartitions: 4 }] })).toBe(true);

    // Adding partitions counts too.
    await expect(
      admin.createPartitions({ topicPartitions: [{ topic: 'a', count: 7 }] }),
    ).rejects.toMatchObject({
      type: 'POLICY_VIOLATION',
    });
    const meta = await admin.fetchTopicMetadata({ topics: ['a'] });
    expect(meta.topics[0]!.partitions).toHaveLength(6);
  });

  it('takes a new limit at run time from a dynamic broker config, as a spec change does', async () => {
    // IncrementalAlterConfigs on the broker's own BROKER resource, as the control plane sends it.
    const p = new Admin({ clientId: 'spec-change', bootstrapBrokers: [`127.0.0.1:${broker.port}`] });
    try {
      await p.incrementalAlterConfigs({
        resources: [
          {
            resourceType: 4,
            resourceName: '1',
            configs: [{ name: 'fjord.instance.partition.limit', configOperation: 0, value: '20' }],
          },
        ],
      });
    } finally {
      await p.close();
    }
    expect(await admin.createTopics({ topics: [{ topic: 'b', numPartitions: 5 }] })).toBe(true);
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 4, name: '1', configNames: ['fjord.instance.partition.limit'] }],
    });
    expect(described.resources[0]!.configEntries[0]).toMatchObject({ configValue: '20', readOnly: false });
  });

  it('never refuses the internal topics', async () => {
    // A consumer group needs __consumer_offsets although user topics use the whole limit.
    const consumer = new Kafka({
      brokers: [`127.0.0.1:${broker.port}`],
      logLevel: logLevel.NOTHING,
    }).consumer({
      groupId: 'g',
    });
    await consumer.connect();
    await consumer.subscribe({ topic: 'a', fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    await expect
      .poll(async () => (await admin.listTopics()).includes('__consumer_offsets'), { timeout: 30_000 })
      .toBe(true);
    await consumer.disconnect();
  }, 60_000);
});
