/**
 * A request whose handling fails unexpectedly is answered with UNKNOWN_SERVER_ERROR in its own
 * response shape, and the connection stays open (Kafka's KafkaApis.handleError).
 *
 * The failing input is a real one: DescribeConfigs (v0-v3, int16-length strings) for a topic
 * whose name takes nearly the whole 32,767 bytes a string may have. The handler's answer
 * ("Topic <name> does not exist.") is longer than any such string, so encoding it throws; that
 * used to close the client's connection.
 */
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { type RunningBroker, startBroker } from '@fjord/test-support/broker';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from './rawClient.js';

const LONG_NAME = 'b'.repeat(32_760);

describe('an unexpected failure while handling a request', () => {
  let broker: RunningBroker;
  beforeAll(async () => {
    broker = await startBroker();
    await broker.broker.services.ensureTopic('ue', 1);
  });
  afterAll(() => broker?.stop());

  it('answers UNKNOWN_SERVER_ERROR for that request and serves the next on the same connection', async () => {
    const client = await RawClient.connect(broker.port);
    try {
      const failed = await client.send(ApiKey.DescribeConfigs, 1, {
        resources: [{ resourceType: 2, resourceName: LONG_NAME, configurationKeys: null }],
        includeSynonyms: false,
      });
      expect(failed.results).toEqual([
        expect.objectContaining({
          errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
          resourceType: 2,
          resourceName: LONG_NAME,
        }),
      ]);
      const next = await client.send(ApiKey.DescribeConfigs, 1, {
        resources: [{ resourceType: 2, resourceName: 'ue', configurationKeys: ['cleanup.policy'] }],
        includeSynonyms: false,
      });
      expect(next.results[0]!.errorCode).toBe(ErrorCode.NONE);
      expect(next.results[0]!.configs.map((c) => [c.name, c.value])).toEqual([['cleanup.policy', 'delete']]);
    } finally {
      client.close();
    }
  });

  it('reaches a real client as the error, not as a lost connection', async () => {
    const kafka = new Kafka({
      brokers: [broker.bootstrap],
      clientId: 'unexpected-error',
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const refused = await admin
        .describeConfigs({
          resources: [{ type: ConfigResourceTypes.TOPIC, name: LONG_NAME }],
          includeSynonyms: false,
        })
        .then(
          () => undefined,
          (e: { type?: string; name?: string }) => e,
        );
      expect(refused).toMatchObject({ code: ErrorCode.UNKNOWN_SERVER_ERROR, type: 'UNKNOWN' });
      const ok = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'ue', configNames: ['cleanup.policy'] }],
        includeSynonyms: false,
      });
      expect(ok.resources[0]!.configEntries[0]).toMatchObject({
        configName: 'cleanup.policy',
        configValue: 'delete',
      });
    } finally {
      await admin.disconnect();
    }
  });
});
