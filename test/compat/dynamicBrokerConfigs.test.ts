/**
 * Kafka's dynamic broker configs as admin tools use them, against one real broker: kafkajs's
 * AlterConfigs and DescribeConfigs on a BROKER resource (per broker and the cluster-wide
 * default '' through kafka-python, which kafkajs cannot address), Kafka's refusals as kafka-python
 * reports them (kafkajs keeps only the error code), and connection limits that apply to the running broker at once
 * (client source addresses picked with `localAddress`: all of 127.0.0.0/8 is loopback on Linux).
 */
import { connect } from 'node:net';
import { type RunningBroker, removeDir, startBroker } from '@fjord/test-support/broker';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess } from './clients.js';

const BROKER_RESOURCE = 4;
// DescribeConfigsResponse ConfigSource ids.
const DYNAMIC_BROKER_CONFIG = 2;
const DYNAMIC_DEFAULT_BROKER_CONFIG = 3;
const DEFAULT_CONFIG = 5;

let broker: RunningBroker;
let kafka: Kafka;
let brokerId: string;
beforeAll(async () => {
  broker = await startBroker();
  kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  brokerId = String(broker.broker.services.brokerId);
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

const alter = (name: string, configEntries: { name: string; value: string }[]) =>
  withAdmin((a) =>
    a.alterConfigs({ validateOnly: false, resources: [{ type: BROKER_RESOURCE, name, configEntries }] }),
  );

async function describeBroker(name: string, configNames: string[]) {
  const d = await withAdmin((a) =>
    a.describeConfigs({ includeSynonyms: true, resources: [{ type: BROKER_RESOURCE, name, configNames }] }),
  );
  return new Map(d.resources[0]!.configEntries.map((e) => [e.configName, e]));
}

// kafka-python's AlterConfigs: unlike kafkajs, @platformatic/kafka and confluent_kafka 1.7 it can
// address the cluster-wide default (resource name ''), and it hands back the broker's message.
const ALTER_PY = `
import sys, json
from kafka.admin import KafkaAdminClient, ConfigResource, ConfigResourceType
from kafka.errors import for_code
a = KafkaAdminClient(bootstrap_servers=sys.argv[1])
r = a.alter_configs([ConfigResource(ConfigResourceType.BROKER, sys.argv[2], configs=json.loads(sys.argv[3]))])
code, message = r.resources[0][0], r.resources[0][1]
a.close()
print(json.dumps(None if code == 0 else {"error": for_code(code).message, "message": message}))
`;

/** AlterConfigs of `configs` on BROKER `resourceName` through kafka-python: null, or the broker's error. */
async function pythonAlter(resourceName: string, configs: Record<string, string>) {
  return (await runProcess('/usr/bin/python3', [
    '-c',
    ALTER_PY,
    broker.bootstrap,
    resourceName,
    JSON.stringify(configs),
  ])) as unknown as { error: string; message: string } | null;
}

/** Whether a connection from `from` is kept (a Kafka request answered) or closed at once. */
function connectionKept(from: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const [host, port] = broker.bootstrap.split(':') as [string, string];
    const s = connect({ host, port: Number(port), localAddress: from });
    // ApiVersions v0, correlation id 1, client id "t": the broker answers unless it closed the socket.
    const body = Buffer.from([0, 18, 0, 0, 0, 0, 0, 1, 0, 1, 0x74]);
    const frame = Buffer.concat([Buffer.from([0, 0, 0, body.length]), body]);
    s.on('connect', () => s.write(frame));
    s.once('data', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => {});
    s.on('close', () => resolve(false));
    setTimeout(() => reject(new Error('neither answered nor closed')), 60_000).unref();
  });
}

describe('dynamic broker configs (kafkajs AlterConfigs / DescribeConfigs)', () => {
  it("accepts Kafka's reconfigurable keys per broker and describes them as DYNAMIC_BROKER_CONFIG", async () => {
    await alter(brokerId, [
      { name: 'log.cleaner.threads', value: '2' },
      { name: 'sasl.kerberos.min.time.before.relogin', value: '58000' },
      { name: 'num.io.threads', value: '4' },
    ]);
    const entries = await describeBroker(brokerId, [
      'log.cleaner.threads',
      'sasl.kerberos.min.time.before.relogin',
      'num.io.threads',
    ]);
    expect(entries.get('log.cleaner.threads')).toMatchObject({
      configValue: '2',
      configSource: DYNAMIC_BROKER_CONFIG,
      readOnly: false,
    });
    expect(entries.get('log.cleaner.threads')!.configSynonyms[0]).toMatchObject({
      configName: 'log.cleaner.threads',
      configValue: '2',
      configSource: DYNAMIC_BROKER_CONFIG,
    });
    expect(entries.get('sasl.kerberos.min.time.before.relogin')).toMatchObject({
      configValue: '58000',
      configSource: DYNAMIC_BROKER_CONFIG,
    });
    expect(entries.get('num.io.threads')?.configValue).toBe('4');
    // AlterConfigs replaces the broker's whole dynamic set: an empty one clears it.
    await alter(brokerId, []);
    expect((await describeBroker(brokerId, ['num.io.threads'])).get('num.io.threads')?.configValue).toBe('8');
  });

  it('keeps cluster-wide defaults apart from per-broker values, as Kafka orders synonyms', async () => {
    expect(await pythonAlter('', { 'background.threads': '12' })).toBeNull();
    await alter(brokerId, [{ name: 'background.threads', value: '14' }]);
    const entry = (await describeBroker(brokerId, ['background.threads'])).get('background.threads')!;
    expect(entry.configValue).toBe('14');
    expect(entry.configSynonyms.map((s) => [s.configValue, s.configSource])).toEqual([
      ['14', DYNAMIC_BROKER_CONFIG],
      ['12', DYNAMIC_DEFAULT_BROKER_CONFIG],
      ['10', DEFAULT_CONFIG],
    ]);
    await alter(brokerId, []);
    expect(await pythonAlter('', {})).toBeNull();
  });

  it('refuses what Kafka refuses, naming the key, and changes nothing', async () => {
    // Listener (SASL login) settings are per broker only.
    expect(await pythonAlter('', { 'sasl.kerberos.min.time.before.relogin': '1000' })).toEqual({
      error: 'INVALID_REQUEST',
      message:
        'Cannot update these configs at default cluster level, broker id must be specified: sasl.kerberos.min.time.before.relogin',
    });
    // Keystores change per listener, with the listener prefix.
    expect(await pythonAlter(brokerId, { 'ssl.keystore.location': '/tmp/ks' })).toEqual({
      error: 'INVALID_CONFIG',
      message:
        'These security configs can be dynamically updated only per-listener using the listener prefix: ssl.keystore.location',
    });
    // Static-only keys and bad values.
    expect(await pythonAlter(brokerId, { 'log.dirs': '/tmp/x' })).toEqual({
      error: 'INVALID_CONFIG',
      message: 'Cannot update these configs dynamically: log.dirs',
    });
    expect(await pythonAlter(brokerId, { 'num.io.threads': '0' })).toMatchObject({
      error: 'INVALID_CONFIG',
      message: expect.stringContaining('num.io.threads'),
    });
    expect(await pythonAlter('', { 'max.connections.per.ip.overrides': 'nocount' })).toMatchObject({
      error: 'INVALID_CONFIG',
      message: expect.stringContaining("'nocount' is not host:count"),
    });
    const entries = await describeBroker(brokerId, ['num.io.threads', 'max.connections.per.ip.overrides']);
    expect(entries.get('num.io.threads')!.configSource).not.toBe(DYNAMIC_BROKER_CONFIG);
    expect(entries.get('max.connections.per.ip.overrides')!.configValue).toBe('');
  });

  it('applies max.connections.per.ip.overrides to new connections at once, and lifts it again', async () => {
    expect(await connectionKept('127.0.0.2')).toBe(true);
    expect(await pythonAlter('', { 'max.connections.per.ip.overrides': '127.0.0.2:0' })).toBeNull();
    // The image reaches the socket server right after the controller commits; wait on that, not a guess.
    const deadline = Date.now() + 60_000;
    while ((await connectionKept('127.0.0.2')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(await connectionKept('127.0.0.2')).toBe(false);
    // Other addresses are not affected.
    expect(await connectionKept('127.0.0.3')).toBe(true);
    expect(await pythonAlter('', {})).toBeNull();
    expect(await connectionKept('127.0.0.2')).toBe(true);
  });
});

describe('names that are no broker config', () => {
  it("are kept and ignored, as Kafka's validateConfigs lets them through (kafkajs's own 'alter broker configs')", async () => {
    // kafkajs's suite sends a topic key to a BROKER resource; Kafka answers NONE.
    const r = await alter(brokerId, [{ name: 'cleanup.policy', value: 'delete' }]);
    expect(r.resources).toEqual([
      expect.objectContaining({ errorCode: 0, resourceType: BROKER_RESOURCE, resourceName: brokerId }),
    ]);
    // Nothing reads it: the broker's own keys are described as before, without it.
    const entries = await describeBroker(brokerId, []);
    expect(entries.has('cleanup.policy')).toBe(false);
    expect(entries.get('log.cleanup.policy')!.configValue).toBe('delete');
    // A read-only broker key is still refused.
    expect(await pythonAlter(brokerId, { 'log.dirs': '/tmp/x' })).toMatchObject({ error: 'INVALID_CONFIG' });
    expect(await pythonAlter(brokerId, {})).toBeNull();
  });
});
