/**
 * SASL re-authentication (KIP-368) with `connections.max.reauth.ms`: the broker tells clients the
 * session lifetime, closes a connection whose session expired at its next request, accepts a
 * re-authentication that keeps principal and mechanism and refuses one that changes them;
 * kafkajs and @platformatic/kafka re-authenticate on their own and keep working, and librdkafka
 * 2.0 (no KIP-368) is disconnected at expiry and reconnects without losing a message.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Broker, resolveBrokerConfig } from '@fjord/broker';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticatePlain, logCapture, RawConnection } from './rawSasl.js';

const run = promisify(execFile);
const LIFETIME = 2000;
const log = logCapture();
let broker: Broker;
let dir: string;
let port: number;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const METADATA = {
  topics: null,
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fjord-reauth-'));
  broker = await Broker.start(
    resolveBrokerConfig({
      overrides: new Map([
        ['listeners', 'SASL_PLAINTEXT://127.0.0.1:0'],
        ['log.dirs', dir],
        ['group.initial.rebalance.delay.ms', '0'],
        [
          'listener.name.sasl_plaintext.plain.sasl.jaas.config',
          'x required user_alice="alice-secret" user_bob="bob-secret";',
        ],
        ['listener.name.sasl_plaintext.connections.max.reauth.ms', String(LIFETIME)],
      ]),
      scramUsers: ['SCRAM-SHA-512=[name=alice,password=alice-secret]'],
    }),
    pino({ level: 'info' }, log.stream),
  );
  port = broker.port();
});

afterAll(async () => {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('KIP-368 re-authentication', () => {
  it('tells the session lifetime and closes the connection at the first request after it', async () => {
    const c = await RawConnection.open(port);
    const auth = await authenticatePlain(c, 'alice', 'alice-secret');
    expect(auth).toMatchObject({ errorCode: 0, sessionLifetimeMs: BigInt(LIFETIME) });
    expect(await c.send(ApiKey.Metadata, 12, METADATA)).not.toBe('closed');
    await sleep(LIFETIME + 300);
    expect(await c.send(ApiKey.Metadata, 12, METADATA)).toBe('closed');
    expect(
      log
        .find('SASL: closing connection')
        .some((l) => l.reason === 'SASL session expired without re-authentication'),
    ).toBe(true);
  });

  it('re-authenticating keeps the connection usable past the first lifetime', async () => {
    const c = await RawConnection.open(port);
    await authenticatePlain(c, 'alice', 'alice-secret');
    await sleep(1200);
    const again = await authenticatePlain(c, 'alice', 'alice-secret');
    expect(again).toMatchObject({ errorCode: 0, sessionLifetimeMs: BigInt(LIFETIME) });
    await sleep(1200); // past the first session's end, within the second's
    expect(await c.send(ApiKey.Metadata, 12, METADATA)).not.toBe('closed');
    c.close();
  });

  it('a re-authentication may not change the principal or the mechanism', async () => {
    const c = await RawConnection.open(port);
    await authenticatePlain(c, 'alice', 'alice-secret');
    await sleep(1100);
    const other = await authenticatePlain(c, 'bob', 'bob-secret');
    expect(other).toMatchObject({
      errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
      errorMessage: 'Cannot change principals during re-authentication from User:alice: User:bob',
    });
    await c.closed;
    const m = await RawConnection.open(port);
    await authenticatePlain(m, 'alice', 'alice-secret');
    await sleep(1100);
    expect(await m.send(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-512' })).toMatchObject({
      errorCode: 0,
    });
    // Kafka closes without a response when the mechanism changed.
    expect(await m.send(ApiKey.SaslAuthenticate, 2, { authBytes: Buffer.from('n,,n=alice,r=abc') })).toBe(
      'closed',
    );
  });

  it('without a session lifetime a second SaslHandshake is ILLEGAL_SASL_STATE, as Kafka answers it', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'fjord-reauth-off-'));
    const b = await Broker.start(
      resolveBrokerConfig({
        overrides: new Map([
          ['listeners', 'SASL_PLAINTEXT://127.0.0.1:0'],
          ['log.dirs', dir2],
          ['listener.name.sasl_plaintext.plain.sasl.jaas.config', 'x required user_alice="alice-secret";'],
        ]),
      }),
      pino({ level: 'silent' }),
    );
    try {
      const c = await RawConnection.open(b.port());
      expect(await authenticatePlain(c, 'alice', 'alice-secret')).toMatchObject({
        errorCode: 0,
        sessionLifetimeMs: 0n,
      });
      expect(await c.send(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' })).toMatchObject({
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
      });
      c.close();
    } finally {
      await b.stop();
      rmSync(dir2, { recursive: true, force: true });
    }
  });

  it('kafkajs and @platformatic/kafka re-authenticate by themselves and keep producing', {
    timeout: 60_000,
  }, async () => {
    const before = log.find('SASL re-authenticated').length;
    const kafka = new Kafka({
      brokers: [`127.0.0.1:${port}`],
      clientId: 'reauth-kafkajs',
      logLevel: logLevel.NOTHING,
      sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'alice-secret' },
      // kafkajs re-authenticates this long before the session ends (default 10 s, longer than this lifetime).
      reauthenticationThreshold: 1000,
    });
    const producer = kafka.producer();
    await producer.connect();
    const platformatic = new Producer({
      clientId: 'reauth-platformatic',
      bootstrapBrokers: [`127.0.0.1:${port}`],
      sasl: { mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' },
      serializers: stringSerializers,
      autocreateTopics: true,
    });
    try {
      for (let i = 0; i < 20; i++) {
        await producer.send({ topic: 'reauth-kafkajs', messages: [{ value: `m${i}` }] });
        await platformatic.send({ messages: [{ topic: 'reauth-platformatic', value: `m${i}` }] });
        await sleep(300);
      }
    } finally {
      await producer.disconnect();
      await platformatic.close();
    }
    // Six seconds of traffic at a two-second lifetime: each client re-authenticated, more than once.
    expect(log.find('SASL re-authenticated').length - before).toBeGreaterThanOrEqual(4);
  });

  it('librdkafka 2.0 (no KIP-368) is disconnected at expiry and reconnects without losing messages', {
    timeout: 60_000,
  }, async () => {
    // confluent-kafka-python producing one message every 400 ms across several session lifetimes.
    const script = `
import json, time
from confluent_kafka import Producer
ok, failed = [], []
p = Producer({"bootstrap.servers": "127.0.0.1:${port}", "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "PLAIN",
              "sasl.username": "alice", "sasl.password": "alice-secret", "linger.ms": 0})
for i in range(15):
    p.produce("reauth-librdkafka", f"line-{i}", on_delivery=lambda e, m: (failed if e else ok).append(str(e) if e else m.value().decode()))
    p.poll(0)
    time.sleep(0.4)
p.flush(20)
print(json.dumps({"ok": ok, "failed": failed}))
`;
    const { stdout, stderr } = await run('/usr/bin/python3', ['-c', script], { timeout: 50_000 });
    const r = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(r.failed).toEqual([]);
    expect(r.ok).toEqual(Array.from({ length: 15 }, (_, i) => `line-${i}`));
    // It was indeed cut off at expiry (and reconnected).
    expect(stderr).toMatch(/Disconnected/);
    expect(
      log
        .find('SASL: closing connection')
        .some((l) => l.reason === 'SASL session expired without re-authentication'),
    ).toBe(true);
  });
});
