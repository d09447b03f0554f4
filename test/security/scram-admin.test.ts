/**
 * SCRAM users managed through the Kafka API (KIP-554): AlterUserScramCredentials stores the
 * credential in the metadata log (the request carries a salted password, as Kafka's admin client
 * computes it), a real client logs in with it at once, DescribeUserScramCredentials lists
 * mechanisms and iterations only, deletion locks the user out, and `--add-scram` on restart
 * keeps a credential changed through the API. Only super users (CLUSTER ALTER/DESCRIBE) may do this.
 */
import { execFile } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Broker, resolveBrokerConfig } from '@fjord/broker';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { authenticatePlain, RawConnection } from './rawSasl.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'fjord-scram-admin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const start = () =>
  Broker.start(
    resolveBrokerConfig({
      overrides: new Map([
        ['listeners', 'SASL_PLAINTEXT://127.0.0.1:0'],
        ['log.dirs', dir],
        [
          'listener.name.sasl_plaintext.plain.sasl.jaas.config',
          'x required user_admin="admin-secret" user_alice="alice-secret";',
        ],
        ['authorizer.class.name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'],
        ['super.users', 'User:admin'],
      ]),
      scramUsers: ['SCRAM-SHA-256=[name=carol,password=bootstrap-secret]'],
    }),
    pino({ level: process.env.FJORD_TEST_LOG ?? 'silent' }),
  );

async function login(port: number, mechanism: string, user: string, password: string) {
  try {
    await run(
      'kcat',
      [
        '-b',
        `127.0.0.1:${port}`,
        '-L',
        '-m',
        '5',
        '-X',
        'security.protocol=SASL_PLAINTEXT',
        '-X',
        `sasl.mechanisms=${mechanism}`,
        '-X',
        `sasl.username=${user}`,
        '-X',
        `sasl.password=${password}`,
      ],
      { timeout: 20_000 },
    );
    return true;
  } catch {
    return false;
  }
}

/** An upsertion as Kafka's admin client builds it: the password salted and hashed client-side. */
function upsertion(name: string, mechanism: 1 | 2, password: string, iterations = 8192) {
  const salt = randomBytes(24);
  const hash = mechanism === 1 ? 'sha256' : 'sha512';
  return {
    name,
    mechanism,
    iterations,
    salt,
    saltedPassword: pbkdf2Sync(password, salt, iterations, mechanism === 1 ? 32 : 64, hash),
  };
}

async function as(port: number, user: string, password: string) {
  const c = await RawConnection.open(port);
  expect(await authenticatePlain(c, user, password)).toMatchObject({ errorCode: 0 });
  return c;
}

describe('SCRAM credentials through the Kafka API', () => {
  it('creates, describes, uses and deletes users; keeps API changes over --add-scram across restarts', {
    timeout: 120_000,
  }, async () => {
    let broker = await start();
    try {
      let port = broker.port();
      const admin = await as(port, 'admin', 'admin-secret');
      const created = await admin.send(ApiKey.AlterUserScramCredentials, 0, {
        deletions: [],
        upsertions: [upsertion('dave', 1, 'dave-secret'), upsertion('erin', 2, 'erin-secret', 4096)],
      });
      expect(created).toMatchObject({
        results: [
          { user: 'dave', errorCode: 0 },
          { user: 'erin', errorCode: 0 },
        ],
      });
      expect(await login(port, 'SCRAM-SHA-256', 'dave', 'dave-secret')).toBe(true);
      expect(await login(port, 'SCRAM-SHA-512', 'erin', 'erin-secret')).toBe(true);
      expect(await login(port, 'SCRAM-SHA-512', 'dave', 'dave-secret')).toBe(false); // no SHA-512 credential
      expect(await login(port, 'SCRAM-SHA-256', 'carol', 'bootstrap-secret')).toBe(true); // --add-scram
      const described = await admin.send(ApiKey.DescribeUserScramCredentials, 0, { users: null });
      if (described === 'closed') throw new Error('closed');
      expect(described.errorCode).toBe(0);
      expect(Object.fromEntries(described.results.map((r) => [r.user, r.credentialInfos]))).toEqual({
        carol: [{ mechanism: 1, iterations: 4096 }],
        dave: [{ mechanism: 1, iterations: 8192 }],
        erin: [{ mechanism: 2, iterations: 4096 }],
      });
      // Not a super user: CLUSTER_AUTHORIZATION_FAILED for both.
      const alice = await as(port, 'alice', 'alice-secret');
      expect(await alice.send(ApiKey.DescribeUserScramCredentials, 0, { users: null })).toMatchObject({
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
      });
      expect(
        await alice.send(ApiKey.AlterUserScramCredentials, 0, {
          deletions: [],
          upsertions: [upsertion('alice', 1, 'x')],
        }),
      ).toMatchObject({
        results: [{ user: 'alice', errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED }],
      });
      // Too few iterations are refused; carol's password is changed through the API.
      expect(
        await admin.send(ApiKey.AlterUserScramCredentials, 0, {
          deletions: [],
          upsertions: [upsertion('frank', 1, 'x', 1000)],
        }),
      ).toMatchObject({
        results: [
          { user: 'frank', errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'Too few iterations' },
        ],
      });
      await admin.send(ApiKey.AlterUserScramCredentials, 0, {
        deletions: [],
        upsertions: [upsertion('carol', 1, 'changed-secret')],
      });
      expect(
        await admin.send(ApiKey.AlterUserScramCredentials, 0, {
          deletions: [{ name: 'dave', mechanism: 1 }],
          upsertions: [],
        }),
      ).toMatchObject({
        results: [{ user: 'dave', errorCode: 0 }],
      });
      expect(await login(port, 'SCRAM-SHA-256', 'dave', 'dave-secret')).toBe(false);
      admin.close();
      alice.close();

      // Restart with the same --add-scram: the credential changed through the API stays.
      await broker.stop();
      broker = await start();
      port = broker.port();
      expect(await login(port, 'SCRAM-SHA-256', 'carol', 'changed-secret')).toBe(true);
      expect(await login(port, 'SCRAM-SHA-256', 'carol', 'bootstrap-secret')).toBe(false);
      expect(await login(port, 'SCRAM-SHA-512', 'erin', 'erin-secret')).toBe(true);
    } finally {
      await broker.stop();
    }
  });
});
