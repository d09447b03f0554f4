/**
 * Security in clustered mode: two brokers sharing a metadata log in PostgreSQL. ACLs, SCRAM
 * credentials and client quotas are written through the broker that is NOT the controller (the
 * request travels to the controller in an Envelope, as the client's principal) and take effect
 * on both brokers from their metadata images; `--add-scram` from a non-controller lands in the
 * shared log too. Brokers talk to each other on an internal PLAINTEXT listener whose
 * (anonymous) principal is a super user; clients use a SASL listener.
 */
import { execFile } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Broker, resolveBrokerConfig } from '@fjord/broker';
import { ApiKey } from '@fjord/protocol';
import { Admin } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, waitFor } from '../cluster/harness.js';
import { authenticatePlain, RawConnection } from './rawSasl.js';

const run = promisify(execFile);
const brokers: Broker[] = [];
const dirs: string[] = [];
let drop: () => Promise<void>;

async function startBroker(id: number, url: string, scram: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), `fjord-sec-cluster-${id}-`));
  dirs.push(dir);
  const b = await Broker.start(
    resolveBrokerConfig({
      overrides: new Map([
        ['node.id', String(id)],
        ['cluster.id', 'security-cluster-test'],
        ['fjord.metadata.database.url', url],
        ['listeners', 'INTERNAL://127.0.0.1:0,PUBLIC://127.0.0.1:0'],
        ['listener.security.protocol.map', 'INTERNAL:PLAINTEXT,PUBLIC:SASL_PLAINTEXT'],
        ['inter.broker.listener.name', 'INTERNAL'],
        ['log.dirs', dir],
        ['default.replication.factor', '1'],
        ['offsets.topic.replication.factor', '1'],
        [
          'listener.name.public.plain.sasl.jaas.config',
          'x required user_admin="admin-secret" user_alice="alice-secret";',
        ],
        ['authorizer.class.name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'],
        ['super.users', 'User:admin;User:ANONYMOUS'],
      ]),
      scramUsers: scram,
    }),
    pino({ level: process.env.FJORD_TEST_LOG ?? 'silent' }),
  );
  brokers.push(b);
  return b;
}

beforeAll(async () => {
  const db = await freshDatabase();
  drop = db.drop;
  await startBroker(1, db.url);
  await startBroker(2, db.url, ['SCRAM-SHA-512=[name=boot,password=boot-secret]']);
  await waitFor(
    () => brokers.every((b) => b.services.metadata.image.liveBrokers().length === 2),
    30_000,
    'both brokers live',
  );
}, 90_000);

afterAll(async () => {
  for (const b of brokers.reverse()) await b.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await drop?.();
});

const publicPort = (b: Broker) => b.port('PUBLIC');
const nonController = () => brokers.find((b) => !b.services.isActiveController())!;

async function canLogin(b: Broker, mechanism: string, user: string, password: string) {
  try {
    await run(
      'kcat',
      [
        '-b',
        `127.0.0.1:${publicPort(b)}`,
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

async function produceAs(b: Broker, user: string, password: string, topic: string) {
  const producer = new Kafka({
    brokers: [`127.0.0.1:${publicPort(b)}`],
    clientId: `cluster-${user}`,
    logLevel: logLevel.NOTHING,
    retry: { retries: 3, initialRetryTime: 100 },
    sasl: { mechanism: 'plain', username: user, password },
  }).producer({ allowAutoTopicCreation: false });
  try {
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'x' }] });
    return 'OK';
  } catch (e) {
    // kafkajs nests the Kafka error in causes.
    let cur = e as { type?: string; cause?: unknown; originalError?: unknown } | undefined;
    for (let i = 0; i < 8 && cur; i++) {
      if (cur.type && cur.type !== 'UNKNOWN') return cur.type;
      cur = (cur.originalError ?? cur.cause) as typeof cur;
    }
    return String(e);
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

describe('security on a two-broker cluster', () => {
  it('ACLs created through the non-controller broker are enforced by both', { timeout: 90_000 }, async () => {
    const via = nonController();
    const admin = new Kafka({
      brokers: [`127.0.0.1:${publicPort(via)}`],
      clientId: 'cluster-admin',
      logLevel: logLevel.NOTHING,
      sasl: { mechanism: 'plain', username: 'admin', password: 'admin-secret' },
    }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'c-allowed' }, { topic: 'c-denied' }] });
    await admin.createAcls({
      acl: [
        {
          principal: 'User:alice',
          host: '*',
          resourceType: 2,
          resourceName: 'c-allowed',
          resourcePatternType: 3,
          operation: 4,
          permissionType: 3,
        },
      ],
    });
    const described = await admin.describeAcls({
      resourceType: 1,
      resourcePatternType: 1,
      operation: 1,
      permissionType: 1,
    });
    await admin.disconnect();
    expect(described.resources).toHaveLength(1);
    for (const b of brokers) {
      await waitFor(() => b.services.metadata.image.acls.byId.size === 1, 10_000, 'the ACL on every broker');
      expect(await produceAs(b, 'alice', 'alice-secret', 'c-allowed')).toBe('OK');
      expect(await produceAs(b, 'alice', 'alice-secret', 'c-denied')).toBe('TOPIC_AUTHORIZATION_FAILED');
    }
  });

  it('SCRAM users altered through the non-controller broker log in on both; --add-scram lands in the shared log', {
    timeout: 90_000,
  }, async () => {
    const via = nonController();
    const c = await RawConnection.open(publicPort(via));
    expect(await authenticatePlain(c, 'admin', 'admin-secret')).toMatchObject({ errorCode: 0 });
    const salt = randomBytes(16);
    const r = await c.send(ApiKey.AlterUserScramCredentials, 0, {
      deletions: [],
      upsertions: [
        {
          name: 'carol',
          mechanism: 1,
          iterations: 4096,
          salt,
          saltedPassword: pbkdf2Sync('carol-secret', salt, 4096, 32, 'sha256'),
        },
      ],
    });
    c.close();
    expect(r).toMatchObject({ results: [{ user: 'carol', errorCode: 0 }] });
    for (const b of brokers) {
      await waitFor(
        () => b.services.metadata.image.scram.get('carol', 'SCRAM-SHA-256') !== undefined,
        10_000,
        'carol everywhere',
      );
      expect(await canLogin(b, 'SCRAM-SHA-256', 'carol', 'carol-secret')).toBe(true);
      expect(await canLogin(b, 'SCRAM-SHA-256', 'carol', 'nope')).toBe(false);
      // Broker 2 was started with --add-scram; the credential is in the log both brokers read.
      expect(await canLogin(b, 'SCRAM-SHA-512', 'boot', 'boot-secret')).toBe(true);
    }
  });

  it('client quotas set through one broker are described by the other', { timeout: 60_000 }, async () => {
    const [a, b] = [nonController(), brokers.find((x) => x.services.isActiveController())!];
    const admin = (broker: Broker) =>
      new Admin({
        clientId: 'cluster-quotas',
        bootstrapBrokers: [`127.0.0.1:${publicPort(broker)}`],
        sasl: { mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' },
      });
    const writer = admin(a);
    await writer.alterClientQuotas({
      entries: [
        {
          entities: [{ entityType: 'user', entityName: 'alice' }],
          ops: [{ key: 'producer_byte_rate', value: 123456, remove: false }],
        },
      ],
    });
    await writer.close();
    await waitFor(
      () => b.services.metadata.image.clientQuotas.entities.size === 1,
      10_000,
      'the quota on the controller',
    );
    const reader = admin(b);
    const described = await reader.describeClientQuotas({
      components: [{ entityType: 'user', matchType: 0, match: 'alice' }],
    });
    await reader.close();
    expect(described[0]?.values).toEqual([{ key: 'producer_byte_rate', value: 123456 }]);
  });
});
