/**
 * Config administration as real clients see it, against one broker: topic configs of Kafka 3.x
 * (message.format.version), DescribeConfigs synonyms, types and documentation. (Transactions:
 * test/transactions/.)
 */

import { spawn } from 'node:child_process';
import { type RunningBroker, removeDir, startBroker } from '@fjord/test-support/broker';
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from './clients.js';

const PYTHON = '/usr/bin/python3';
const TOPIC = 'config-admin';
const TOPIC_RESOURCE = 2;
const BROKER_RESOURCE = 4;

let broker: RunningBroker;
let kafka: Kafka;
beforeAll(async () => {
  broker = await startBroker();
  kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  await broker.broker.services.ensureTopic(TOPIC, 1);
});
afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

async function withAdmin<T>(run: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await run(admin);
  } finally {
    await admin.disconnect();
  }
}

describe('kafkajs describeConfigs with synonyms on a topic', () => {
  it('lists no broker-level synonym for retention.ms when nothing is set at broker level', async () => {
    const described = await withAdmin((a) =>
      a.describeConfigs({ includeSynonyms: true, resources: [{ type: TOPIC_RESOURCE, name: TOPIC }] }),
    );
    const entries = new Map(described.resources[0]!.configEntries.map((e) => [e.configName, e]));
    expect(entries.get('retention.ms')).toMatchObject({
      configValue: '604800000',
      configSource: 5, // DEFAULT_CONFIG
      configSynonyms: [],
    });
    // A broker default that Kafka's ConfigDef has (not null) is listed, as Kafka lists it.
    expect(entries.get('retention.bytes')!.configSynonyms).toEqual([
      { configName: 'log.retention.bytes', configValue: '-1', configSource: 5 },
    ]);
    for (const name of [
      'message.format.version',
      'leader.replication.throttled.replicas',
      'follower.replication.throttled.replicas',
    ])
      expect(entries.has(name), name).toBe(true);
  });
});

describe('message.format.version (deprecated in Kafka 3.x, still accepted)', () => {
  it('is accepted by kafkajs alterConfigs and described as a topic override', async () => {
    const topic = 'format-kafkajs';
    await broker.broker.services.ensureTopic(topic, 1);
    const described = await withAdmin(async (a) => {
      await a.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: TOPIC_RESOURCE,
            name: topic,
            configEntries: [{ name: 'message.format.version', value: '2.4' }],
          },
        ],
      });
      return a.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ['message.format.version'] }],
      });
    });
    expect(described.resources[0]!.configEntries).toEqual([
      expect.objectContaining({ configName: 'message.format.version', configValue: '2.4', configSource: 1 }),
    ]);
  });

  it('is accepted by confluent_kafka alter_configs and a non-version refused with INVALID_CONFIG', async () => {
    const topic = 'format-confluent';
    await broker.broker.services.ensureTopic(topic, 1);
    const script = `
import json, sys
from confluent_kafka.admin import AdminClient, ConfigResource
from confluent_kafka import KafkaException
a = AdminClient({'bootstrap.servers': sys.argv[1]})
def alter(value):
    r = ConfigResource('topic', sys.argv[2], set_config={'message.format.version': value})
    try:
        list(a.alter_configs([r]).values())[0].result(30)
        return 'NONE'
    except KafkaException as e:
        return e.args[0].name()
ok = alter('0.10.2-IV0')
bad = alter('banana')
d = list(a.describe_configs([ConfigResource('topic', sys.argv[2])]).values())[0].result(30)['message.format.version']
print(json.dumps({'ok': ok, 'bad': bad, 'value': d.value, 'source': d.source}))
`;
    const out = await runProcess(PYTHON, ['-c', script, broker.bootstrap, topic]);
    expect(out).toEqual({ ok: 'NONE', bad: 'INVALID_CONFIG', value: '0.10.2-IV0', source: 1 });
  });
});

describe('DescribeConfigs types and documentation (v3+)', () => {
  it('fills configType and documentation for topic and broker configs (@platformatic/kafka, v4)', async () => {
    const admin = new PlatformaticAdmin({ clientId: 'config-types', bootstrapBrokers: [broker.bootstrap] });
    try {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        includeDocumentation: true,
        resources: [
          {
            resourceType: TOPIC_RESOURCE,
            resourceName: TOPIC,
            configurationKeys: ['retention.bytes', 'cleanup.policy', 'message.format.version'],
          },
          {
            resourceType: BROKER_RESOURCE,
            resourceName: '1',
            configurationKeys: ['advertised.listeners', 'log.retention.bytes', 'num.partitions'],
          },
        ],
      });
      const byName = (type: number) =>
        new Map(described.find((r) => r.resourceType === type)!.configs.map((e) => [e.name, e]));
      const topic = byName(TOPIC_RESOURCE);
      expect(topic.get('retention.bytes')!.configType).toBe(5); // LONG
      expect(topic.get('cleanup.policy')!.configType).toBe(7); // LIST
      expect(topic.get('message.format.version')!.configType).toBe(2); // STRING
      expect(topic.get('retention.bytes')!.documentation).toMatch(/partition/);
      const brokerConfigs = byName(BROKER_RESOURCE);
      expect(brokerConfigs.get('advertised.listeners')!.configType).toBe(7); // LIST
      // Listed as reconfigurable before Kafka 4.0 (this broker emulates 3.8), as Kafka does.
      expect(brokerConfigs.get('advertised.listeners')!.readOnly).toBe(false);
      expect(brokerConfigs.get('num.partitions')!.readOnly).toBe(true);
      expect(brokerConfigs.get('log.retention.bytes')!.configType).toBe(5);
      expect(brokerConfigs.get('num.partitions')!.configType).toBe(3); // INT
    } finally {
      await admin.close();
    }
  });

  it('serves kafka-python describe_configs (v1/v2) with message.format.version and no retention.ms synonym', async () => {
    const script = `
import json, sys
from kafka.admin import KafkaAdminClient, ConfigResource, ConfigResourceType
a = KafkaAdminClient(bootstrap_servers=sys.argv[1])
resp = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, sys.argv[2])], include_synonyms=True)[0]
entries = {c[0]: c for c in resp.resources[0][4]}
print(json.dumps({'version': resp.API_VERSION, 'format': entries['message.format.version'][1], 'retention_synonyms': entries['retention.ms'][5]}))
a.close()
`;
    const out = await runProcess(PYTHON, ['-c', script, broker.bootstrap, TOPIC]);
    expect(out).toEqual({ version: expect.any(Number), format: '3.0-IV1', retention_synonyms: [] });
    expect(out.version).toBeGreaterThanOrEqual(1);
  });
});

describe('a broker emulating Kafka 2.4', () => {
  it("reports 2.4's message.format.version default and Kafka's synonyms to kafkajs", async () => {
    const old = await startBroker({ 'fjord.kafka.version': '2.4' });
    try {
      const client = new Kafka({ brokers: [old.bootstrap], logLevel: logLevel.NOTHING }).admin();
      await client.connect();
      try {
        await client.createTopics({ topics: [{ topic: 't24' }], waitForLeaders: true });
        const described = await client.describeConfigs({
          includeSynonyms: true,
          resources: [
            {
              type: TOPIC_RESOURCE,
              name: 't24',
              configNames: ['compression.type', 'message.format.version', 'max.message.bytes'],
            },
          ],
        });
        const entries = new Map(described.resources[0]!.configEntries.map((e) => [e.configName, e]));
        expect(entries.get('message.format.version')).toMatchObject({
          configValue: '2.4-IV1',
          configSource: 5,
        });
        // 2.4's message.max.bytes default (raised in 2.5, KAFKA-4203), as kafkajs's suite expects.
        expect(entries.get('max.message.bytes')).toMatchObject({ configValue: '1000012', configSource: 5 });
        expect(entries.get('compression.type')!.configSynonyms).toEqual([
          { configName: 'compression.type', configValue: 'producer', configSource: 5 },
        ]);
        // kafka-python's suite wants advertised.listeners listed as reconfigurable before 4.0; a
        // Raft-based quorum still refuses to change it, as Kafka 3.x in KRaft mode does.
        const brokerId = String((await client.describeCluster()).brokers[0]!.nodeId);
        const broker = await client.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: BROKER_RESOURCE, name: brokerId, configNames: ['advertised.listeners'] }],
        });
        expect(broker.resources[0]!.configEntries[0]).toMatchObject({
          configName: 'advertised.listeners',
          readOnly: false,
        });
        const refused = await client
          .alterConfigs({
            validateOnly: false,
            resources: [
              {
                type: BROKER_RESOURCE,
                name: brokerId,
                configEntries: [{ name: 'advertised.listeners', value: 'PLAINTEXT://elsewhere:9092' }],
              },
            ],
          })
          .catch((e: unknown) => e);
        expect(refused).toMatchObject({ type: 'INVALID_REQUEST' });
      } finally {
        await client.disconnect();
      }
    } finally {
      await old.stop();
      removeDir(old.dataDir);
    }
  });

  it('keeps the last value of a config named twice in one legacy AlterConfigs, where 3.8 refuses it', async () => {
    // librdkafka 2.0.2's 0092_mixed_msgver sends the described configs plus the changed one, so
    // message.format.version comes twice. Kafka 2.4 kept the last; from 3.2 on INVALID_REQUEST.
    const entries = [
      { name: 'message.format.version', value: '2.4-IV1' },
      { name: 'retention.ms', value: '3600000' },
      { name: 'message.format.version', value: '0.10.0' },
    ];
    const refused = await withAdmin((admin) =>
      admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: TOPIC_RESOURCE, name: TOPIC, configEntries: entries }],
      }),
    ).catch((e: unknown) => e);
    expect(refused).toMatchObject({ type: 'INVALID_REQUEST' });

    const old = await startBroker({ 'fjord.kafka.version': '2.4.0' });
    try {
      const client = new Kafka({ brokers: [old.bootstrap], logLevel: logLevel.NOTHING }).admin();
      await client.connect();
      try {
        await client.createTopics({ topics: [{ topic: 'dup24' }], waitForLeaders: true });
        await client.alterConfigs({
          validateOnly: false,
          resources: [{ type: TOPIC_RESOURCE, name: 'dup24', configEntries: entries }],
        });
        const described = await client.describeConfigs({
          includeSynonyms: false,
          resources: [
            { type: TOPIC_RESOURCE, name: 'dup24', configNames: ['message.format.version', 'retention.ms'] },
          ],
        });
        const values = Object.fromEntries(
          described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]),
        );
        expect(values).toEqual({ 'message.format.version': '0.10.0', 'retention.ms': '3600000' });
      } finally {
        await client.disconnect();
      }
    } finally {
      await old.stop();
      removeDir(old.dataDir);
    }
  });

  it('answers UNKNOWN_SERVER_ERROR for the configs of a missing topic, where 3.8 says UNKNOWN_TOPIC_OR_PARTITION', async () => {
    // librdkafka 2.0.2's 0081_admin expects Kafka < 2.7's answer from a 2.4 broker (KAFKA-10033).
    const alter = (bootstrap: string) =>
      new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    const missing = {
      validateOnly: false,
      resources: [
        {
          type: TOPIC_RESOURCE,
          name: 'no-such-topic',
          configEntries: [{ name: 'retention.ms', value: '1000' }],
        },
      ],
    };
    const current = alter(broker.bootstrap);
    await current.connect();
    try {
      expect(await current.alterConfigs(missing).catch((e: unknown) => e)).toMatchObject({
        type: 'UNKNOWN_TOPIC_OR_PARTITION',
      });
    } finally {
      await current.disconnect();
    }
    const old = await startBroker({ 'fjord.kafka.version': '2.4.0' });
    try {
      const client = alter(old.bootstrap);
      await client.connect();
      try {
        // kafkajs names UNKNOWN_SERVER_ERROR (-1) 'UNKNOWN'.
        expect(await client.alterConfigs(missing).catch((e: unknown) => e)).toMatchObject({
          type: 'UNKNOWN',
          code: -1,
        });
      } finally {
        await client.disconnect();
      }
    } finally {
      await old.stop();
      removeDir(old.dataDir);
    }
  });

  // Failure detection only: Python processes on a loaded machine.
  it("kafka-python auto-creates a topic, joins a group and deletes it (the broker's own CreateTopics is one 2.4 has)", {
    timeout: 120_000,
  }, async () => {
    // Before: the broker sent its own CreateTopics (auto-created topics, __consumer_offsets) as v7,
    // which a 2.4 broker refuses, so FindCoordinator said COORDINATOR_NOT_AVAILABLE for ever and
    // kafka-python's test_delete_groups waited in its consumer's first poll.
    const old = await startBroker({ 'fjord.kafka.version': '2.4' });
    try {
      const script = `
import json, sys
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
bootstrap, topic, group = sys.argv[1:4]
producer = KafkaProducer(bootstrap_servers=bootstrap, max_block_ms=60000)
producer.send(topic, b'v0').get(timeout=60)
producer.close()
consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                         auto_offset_reset='earliest', consumer_timeout_ms=60000)
first = next(consumer)
consumer.commit()
consumer.close()
admin = KafkaAdminClient(bootstrap_servers=bootstrap)
before = [g[0] for g in admin.list_consumer_groups()]
deleted = [(g, e.__name__) for g, e in admin.delete_consumer_groups([group])]
after = [g[0] for g in admin.list_consumer_groups()]
admin.close()
print(json.dumps({'version': list(producer.config['api_version']), 'value': first.value.decode(),
                  'listed': group in before, 'deleted': deleted, 'listedAfter': group in after}))
`;
      const out = await runProcess(PYTHON, ['-c', script, old.bootstrap, 'auto24', 'g24']);
      expect(out).toEqual({
        version: [2, 4, 0],
        value: 'v0',
        listed: true,
        deleted: [['g24', 'NoError']],
        listedAfter: false,
      });
    } finally {
      await old.stop();
      removeDir(old.dataDir);
    }
  });

  it("answers ApiVersions with Kafka 2.4's APIs only, as librdkafka sees them (no client quotas or SCRAM admin)", async () => {
    const old = await startBroker({ 'fjord.kafka.version': '2.4' });
    try {
      // librdkafka logs the broker's ApiVersions answer (debug=feature): `ApiKey <Name> (<key>)` per API.
      // Not spawnSync: the broker runs in this process and must keep answering.
      const kcat = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn('kcat', ['-b', old.bootstrap, '-L', '-X', 'debug=feature'], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        child.on('close', (status) => resolve({ status, stderr }));
      });
      expect(kcat.status, kcat.stderr.slice(-2000)).toBe(0);
      const keys = [...kcat.stderr.matchAll(/APIVERSION.*bootstrap:\s+ApiKey \w+ \((\d+)\)/g)].map((m) =>
        Number(m[1]),
      );
      expect(keys).toContain(44); // IncrementalAlterConfigs, new in 2.3
      expect(keys.filter((k) => k > 47)).toEqual([]);
    } finally {
      await old.stop();
      removeDir(old.dataDir);
    }
  });
});
