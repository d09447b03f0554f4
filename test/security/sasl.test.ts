/**
 * SASL on a SASL_PLAINTEXT listener with real clients: kcat (librdkafka, SaslHandshake v1 +
 * SaslAuthenticate) and kafka-python (SaslHandshake v0 + raw tokens), PLAIN and SCRAM-SHA-256/512,
 * right and wrong passwords; and a client that skips authentication is disconnected.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Broker, resolveBrokerConfig } from '@fjord/broker';
import { ApiKey, encodeRequestFrame } from '@fjord/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
let broker: Broker;
let bootstrap: string;

beforeAll(async () => {
  const config = resolveBrokerConfig({
    overrides: new Map([
      ['listeners', 'SASL_PLAINTEXT://127.0.0.1:0'],
      ['log.dirs', mkdtempSync(join(tmpdir(), 'fjord-sasl-'))],
      ['group.initial.rebalance.delay.ms', '0'],
      [
        'listener.name.sasl_plaintext.plain.sasl.jaas.config',
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";',
      ],
    ]),
    scramUsers: [
      'SCRAM-SHA-256=[name=alice,password=alice-secret]',
      'SCRAM-SHA-512=[name=alice,password=alice-secret,iterations=8192]',
    ],
  });
  broker = await Broker.start(config, pino({ level: 'silent' }));
  bootstrap = `127.0.0.1:${broker.port()}`;
});
afterAll(() => broker.stop());

async function kcat(
  mechanism: string,
  password: string,
  extra: string[],
): Promise<{ ok: boolean; out: string }> {
  const args = [
    '-b',
    bootstrap,
    '-X',
    'security.protocol=SASL_PLAINTEXT',
    '-X',
    `sasl.mechanisms=${mechanism}`,
    '-X',
    'sasl.username=alice',
    '-X',
    `sasl.password=${password}`,
    '-m',
    '5',
    ...extra,
  ];
  try {
    const { stdout, stderr } = await run('kcat', args, { timeout: 20_000 });
    return { ok: true, out: stdout + stderr };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

describe('SASL with kcat (SaslHandshake v1 + SaslAuthenticate)', () => {
  for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
    it(`${mechanism}: the right password works end to end, a wrong one is refused`, {
      timeout: 60_000,
    }, async () => {
      const topic = `sasl-${mechanism.toLowerCase()}`;
      await run('sh', [
        '-c',
        `echo secret-${mechanism} | kcat -P -b ${bootstrap} -t ${topic} -X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=${mechanism} -X sasl.username=alice -X sasl.password=alice-secret`,
      ]);
      const consumed = await kcat(mechanism, 'alice-secret', [
        '-C',
        '-t',
        topic,
        '-e',
        '-q',
        '-o',
        'beginning',
      ]);
      expect(consumed.ok).toBe(true);
      expect(consumed.out).toContain(`secret-${mechanism}`);
      const refused = await kcat(mechanism, 'wrong-password', ['-L']);
      expect(refused.ok).toBe(false);
      expect(refused.out).toMatch(/Authentication failed|authentication/i);
    });
  }
});

describe('SASL with kafka-python (SaslHandshake v0 + raw tokens)', () => {
  const script = (mechanism: string, password: string) => `
from kafka import KafkaProducer
from kafka.errors import KafkaError
try:
    p = KafkaProducer(bootstrap_servers='${bootstrap}', security_protocol='SASL_PLAINTEXT', sasl_mechanism='${mechanism}',
                      sasl_plain_username='alice', sasl_plain_password='${password}', api_version_auto_timeout_ms=15000)
    p.send('kp-sasl', b'hello').get(timeout=15)
    print('OK')
except Exception as e:
    print('FAIL', type(e).__name__, e)
`;
  for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
    it(`${mechanism}: authenticates, and a wrong password fails`, { timeout: 60_000 }, async () => {
      const ok = await run('/usr/bin/python3', ['-c', script(mechanism, 'alice-secret')], {
        timeout: 40_000,
      });
      expect(ok.stdout.trim()).toBe('OK');
      const bad = await run('/usr/bin/python3', ['-c', script(mechanism, 'nope')], { timeout: 40_000 });
      expect(bad.stdout).toMatch(/^FAIL/);
    });
  }
});

describe('requests before authentication', () => {
  it('are refused by closing the connection', async () => {
    const closed = await new Promise<boolean>((resolve) => {
      const s = connect(broker.port(), '127.0.0.1', () => {
        s.write(
          encodeRequestFrame(ApiKey.Metadata, 9, 1, 'sneaky', {
            topics: null,
            allowAutoTopicCreation: false,
            includeClusterAuthorizedOperations: false,
            includeTopicAuthorizedOperations: false,
          }),
        );
      });
      s.on('data', () => resolve(false));
      s.on('close', () => resolve(true));
      s.on('error', () => {});
    });
    expect(closed).toBe(true);
  });
});
