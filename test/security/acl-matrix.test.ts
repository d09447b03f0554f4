/**
 * The ACL matrix: for each thing a client does (produce, consume in a group, commit, list topics,
 * create/delete topics, alter configs, describe/alter ACLs, idempotent producers), a principal
 * with and one without the ACL it needs, including PREFIXED, wildcard, DENY and host cases, gets
 * exactly what Kafka gives. Real clients (kafkajs, and librdkafka through kcat) over SASL/PLAIN on
 * real sockets against a broker with `authorizer.class.name` set; every ACL is created through
 * CreateAcls by the super user.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Broker, resolveBrokerConfig } from '@fjord/broker';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import {
  type AclEntry,
  Kafka,
  logLevel,
  AclOperationTypes as Op,
  ResourcePatternTypes as Pattern,
  AclPermissionTypes as Perm,
  AclResourceTypes as Res,
} from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticatePlain, RawConnection } from './rawSasl.js';

const run = promisify(execFile);
const USERS = ['admin', 'alice', 'bob', 'carol', 'dave'] as const;
type User = (typeof USERS)[number];
const password = (u: User) => `${u}-secret`;

let broker: Broker;
let bootstrap: string;
let dataDir: string;

const kafka = (user: User) =>
  new Kafka({
    brokers: [bootstrap],
    clientId: `acl-${user}`,
    logLevel: logLevel.NOTHING,
    // Authorization errors are not retriable; retries only cover kafkajs refreshing its metadata.
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 500 },
    sasl: { mechanism: 'plain', username: user, password: password(user) },
  });

/** The Kafka error name a kafkajs failure carries (it nests them in causes and retries). */
function kafkaError(e: unknown): string {
  let cur = e as { type?: string; cause?: unknown; originalError?: unknown; errors?: unknown[] } | undefined;
  for (let i = 0; i < 8 && cur; i++) {
    if (cur.type && cur.type !== 'UNKNOWN') return cur.type;
    cur = (cur.originalError ?? cur.cause ?? cur.errors?.[0]) as typeof cur;
  }
  return String((e as Error)?.message ?? e);
}

async function outcome(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'OK';
  } catch (e) {
    return kafkaError(e);
  }
}

const allow = (
  principal: string,
  resourceType: Res,
  resourceName: string,
  operation: Op,
  extra: Partial<AclEntry> = {},
): AclEntry => ({
  principal,
  host: '*',
  resourceType,
  resourceName,
  resourcePatternType: Pattern.LITERAL,
  operation,
  permissionType: Perm.ALLOW,
  ...extra,
});

async function asAdmin<T>(fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = kafka('admin').admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

async function produce(user: User, topic: string, opts: { idempotent?: boolean } = {}): Promise<string> {
  const producer = kafka(user).producer({
    idempotent: opts.idempotent ?? false,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  try {
    return await outcome(async () => {
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: `from-${user}` }] });
    });
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

/** Joins `group`, reads `topic` from the start and commits; the first error ends it. */
async function consume(
  user: User,
  topic: string,
  group: string,
): Promise<{ result: string; values: string[] }> {
  const consumer = kafka(user).consumer({
    groupId: group,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
    retry: { retries: 0 },
  });
  const values: string[] = [];
  try {
    const result = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('TIMEOUT'), 20_000);
      consumer.on(consumer.events.CRASH, (e) => {
        clearTimeout(timer);
        resolve(kafkaError(e.payload.error));
      });
      consumer
        .connect()
        .then(() => consumer.subscribe({ topic, fromBeginning: true }))
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachMessage: async ({ message, partition }) => {
              values.push(message.value?.toString() ?? '');
              await consumer.commitOffsets([
                { topic, partition, offset: String(Number(message.offset) + 1) },
              ]);
              clearTimeout(timer);
              resolve('OK');
            },
          }),
        )
        .catch((e) => {
          clearTimeout(timer);
          resolve(kafkaError(e));
        });
    });
    return { result, values };
  } finally {
    await consumer.disconnect().catch(() => {});
  }
}

/**
 * A confluent-kafka-python (librdkafka) consumer in `group`: the name of the first error it
 * reports, or OK once it has a record.
 */
async function librdkafkaConsume(user: User, topic: string, group: string): Promise<string> {
  const script = `
import sys
from confluent_kafka import Consumer, KafkaError
c = Consumer({"bootstrap.servers": "${bootstrap}", "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "PLAIN",
              "sasl.username": "${user}", "sasl.password": "${password(user)}", "group.id": "${group}",
              "auto.offset.reset": "earliest", "session.timeout.ms": 10000})
c.subscribe(["${topic}"])
for _ in range(100):
    m = c.poll(0.2)
    if m is None:
        continue
    if m.error():
        print(m.error().name()); break
    print("OK"); break
else:
    print("TIMEOUT")
c.close()
`;
  const { stdout } = await run('/usr/bin/python3', ['-c', script], { timeout: 40_000 });
  return stdout.trim().split('\n').pop()!;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'fjord-acl-'));
  const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required ${USERS.map((u) => `user_${u}="${password(u)}"`).join(' ')};`;
  const config = resolveBrokerConfig({
    overrides: new Map([
      ['listeners', 'SASL_PLAINTEXT://127.0.0.1:0'],
      ['log.dirs', dataDir],
      ['group.initial.rebalance.delay.ms', '0'],
      ['offsets.topic.num.partitions', '3'],
      ['auto.create.topics.enable', 'false'],
      ['listener.name.sasl_plaintext.sasl.enabled.mechanisms', 'PLAIN'],
      ['listener.name.sasl_plaintext.plain.sasl.jaas.config', jaas],
      ['authorizer.class.name', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'],
      ['super.users', 'User:admin'],
    ]),
  });
  broker = await Broker.start(config, pino({ level: process.env.FJORD_TEST_LOG ?? 'silent' }));
  bootstrap = `127.0.0.1:${broker.port()}`;
  await asAdmin(async (admin) => {
    await admin.createTopics({
      topics: ['orders', 'orders-eu', 'payments', 'secret', 'to-delete', 'to-keep', 'idem'].map((topic) => ({
        topic,
        numPartitions: 1,
      })),
    });
    await admin.createAcls({
      acl: [
        // alice: writes and reads "orders", everything under "orders-" by prefix, group g-alice.
        allow('User:alice', Res.TOPIC, 'orders', Op.WRITE),
        allow('User:alice', Res.TOPIC, 'orders', Op.READ),
        allow('User:alice', Res.TOPIC, 'orders-', Op.ALL, { resourcePatternType: Pattern.PREFIXED }),
        allow('User:alice', Res.GROUP, 'g-alice', Op.READ),
        allow('User:alice', Res.TOPIC, 'to-delete', Op.DELETE),
        allow('User:alice', Res.TOPIC, 'payments', Op.ALTER_CONFIGS),
        allow('User:alice', Res.TOPIC, 'new-', Op.CREATE, { resourcePatternType: Pattern.PREFIXED }),
        allow('User:alice', Res.CLUSTER, 'kafka-cluster', Op.DESCRIBE),
        // bob: may write everything (wildcard) except "secret" (DENY wins); reads orders but has no group.
        allow('User:bob', Res.TOPIC, '*', Op.WRITE),
        allow('User:bob', Res.TOPIC, 'secret', Op.WRITE, { permissionType: Perm.DENY }),
        allow('User:bob', Res.TOPIC, 'orders', Op.READ),
        allow('User:bob', Res.GROUP, 'g-bob-describe', Op.DESCRIBE),
        // carol: a group but no topic; CREATE on the whole cluster; ALTER on the cluster (ACL admin).
        allow('User:carol', Res.GROUP, 'g-carol', Op.READ),
        allow('User:carol', Res.CLUSTER, 'kafka-cluster', Op.CREATE),
        allow('User:carol', Res.CLUSTER, 'kafka-cluster', Op.ALTER),
        // dave: WRITE on orders, but only from a host that is not ours.
        allow('User:dave', Res.TOPIC, 'orders', Op.WRITE, { host: '10.255.0.1' }),
        allow('User:dave', Res.TOPIC, 'idem', Op.READ),
      ],
    });
  });
}, 60_000);

afterAll(async () => {
  await broker?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('ACL matrix with real clients', () => {
  it('produce: literal, prefixed and wildcard ALLOW; DENY wins; host must match', {
    timeout: 60_000,
  }, async () => {
    expect(await produce('alice', 'orders')).toBe('OK');
    expect(await produce('alice', 'orders-eu')).toBe('OK'); // PREFIXED orders-
    expect(await produce('alice', 'payments')).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await produce('bob', 'payments')).toBe('OK'); // LITERAL *
    expect(await produce('bob', 'secret')).toBe('TOPIC_AUTHORIZATION_FAILED'); // DENY beats *
    expect(await produce('dave', 'orders')).toBe('TOPIC_AUTHORIZATION_FAILED'); // ACL for another host
    expect(await produce('carol', 'orders')).toBe('TOPIC_AUTHORIZATION_FAILED'); // no ACL at all
  });

  it('produce to a topic that does not exist: UNKNOWN only for those who may write it', {
    timeout: 30_000,
  }, async () => {
    // kafkajs asks Metadata first: bob may describe (WRITE implies DESCRIBE) so learns it is unknown;
    // carol may not, and is told she is not authorized, not whether it exists.
    expect(await produce('bob', 'no-such-topic')).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(await produce('carol', 'no-such-topic')).toBe('TOPIC_AUTHORIZATION_FAILED');
  });

  it('idempotent producers need WRITE on some topic (or IDEMPOTENT_WRITE)', { timeout: 30_000 }, async () => {
    expect(await produce('alice', 'orders', { idempotent: true })).toBe('OK');
    // dave's only WRITE ACL is for another host, so InitProducerId is refused at the cluster level.
    expect(await produce('dave', 'idem', { idempotent: true })).toBe('CLUSTER_AUTHORIZATION_FAILED');
  });

  it('consume in a group and commit: READ on the group and on the topic', { timeout: 90_000 }, async () => {
    await produce('admin', 'orders');
    const alice = await consume('alice', 'orders', 'g-alice');
    expect(alice.result).toBe('OK');
    expect(alice.values.length).toBeGreaterThan(0);
    const committed = await asAdmin((a) => a.fetchOffsets({ groupId: 'g-alice', topics: ['orders'] }));
    expect(Number(committed[0]!.partitions[0]!.offset)).toBeGreaterThan(0);
    // bob may read the topic; on g-bob-describe he may only DESCRIBE, so JoinGroup is refused.
    expect((await consume('bob', 'orders', 'g-bob-describe')).result).toBe('GROUP_AUTHORIZATION_FAILED');
    // With no ACL on the group at all FindCoordinator is refused (kafkajs reports that only as
    // "Failed to find group coordinator"; librdkafka passes Kafka's error on).
    expect(await librdkafkaConsume('bob', 'orders', 'g-bob')).toBe('GROUP_AUTHORIZATION_FAILED');
    // carol has the group but not the topic.
    expect((await consume('carol', 'orders', 'g-carol')).result).toBe('TOPIC_AUTHORIZATION_FAILED');
    // alice may not use someone else's group.
    expect(await librdkafkaConsume('alice', 'orders', 'g-carol')).toBe('GROUP_AUTHORIZATION_FAILED');
    expect(await librdkafkaConsume('alice', 'orders', 'g-alice-2')).toBe('GROUP_AUTHORIZATION_FAILED');
  });

  it('commit without READ on the topic is refused per partition', { timeout: 30_000 }, async () => {
    const carol = kafka('carol').admin();
    await carol.connect();
    try {
      const r = await outcome(() =>
        carol.setOffsets({
          groupId: 'g-carol',
          topic: 'orders',
          partitions: [{ partition: 0, offset: '0' }],
        }),
      );
      expect(r).toBe('TOPIC_AUTHORIZATION_FAILED');
    } finally {
      await carol.disconnect();
    }
  });

  it('list topics shows only what the principal may describe (kafkajs and kcat)', {
    timeout: 30_000,
  }, async () => {
    const alice = kafka('alice').admin();
    await alice.connect();
    const seen = (await alice.listTopics()).sort();
    await alice.disconnect();
    // orders (READ/WRITE), orders-eu (prefixed ALL), to-delete (DELETE), payments (ALTER_CONFIGS does not imply DESCRIBE).
    expect(seen).toEqual(['orders', 'orders-eu', 'to-delete']);
    const kcat = await run(
      'kcat',
      [
        '-b',
        bootstrap,
        '-L',
        '-J',
        '-X',
        'security.protocol=SASL_PLAINTEXT',
        '-X',
        'sasl.mechanisms=PLAIN',
        '-X',
        'sasl.username=carol',
        '-X',
        `sasl.password=${password('carol')}`,
      ],
      { timeout: 20_000 },
    );
    expect(JSON.parse(kcat.stdout).topics).toEqual([]);
    const all = await asAdmin((a) => a.listTopics());
    expect(all).toEqual(expect.arrayContaining(['orders', 'payments', 'secret']));
  });

  it('create topics: CREATE on the cluster, or on the topic (prefixed)', { timeout: 30_000 }, async () => {
    const create = async (user: User, topic: string) => {
      const a = kafka(user).admin();
      await a.connect();
      try {
        // Without waiting for leaders: that asks Metadata, and CREATE does not imply DESCRIBE.
        return await outcome(() =>
          a.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: false }),
        );
      } finally {
        await a.disconnect();
      }
    };
    expect(await create('alice', 'new-alice')).toBe('OK');
    expect(await create('alice', 'other-alice')).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await create('carol', 'anything-carol')).toBe('OK');
    expect(await create('bob', 'new-bob')).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await asAdmin((a) => a.listTopics())).toEqual(
      expect.arrayContaining(['new-alice', 'anything-carol']),
    );
    expect(await asAdmin((a) => a.listTopics())).not.toContain('new-bob');
  });

  it('delete topics: DELETE on the topic', { timeout: 30_000 }, async () => {
    const del = async (user: User, topic: string) => {
      const a = kafka(user).admin();
      await a.connect();
      try {
        return await outcome(() => a.deleteTopics({ topics: [topic], timeout: 5000 }));
      } finally {
        await a.disconnect();
      }
    };
    expect(await del('bob', 'to-delete')).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await del('alice', 'to-keep')).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await del('alice', 'to-delete')).toBe('OK');
    expect(await asAdmin((a) => a.listTopics())).not.toContain('to-delete');
  });

  it('alter and describe configs: ALTER_CONFIGS (which implies DESCRIBE_CONFIGS) on the topic', {
    timeout: 30_000,
  }, async () => {
    const alter = async (user: User, topic: string) => {
      const a = kafka(user).admin();
      await a.connect();
      try {
        return await outcome(() =>
          a.alterConfigs({
            validateOnly: false,
            resources: [
              { type: 2, name: topic, configEntries: [{ name: 'retention.ms', value: '3600000' }] },
            ],
          }),
        );
      } finally {
        await a.disconnect();
      }
    };
    expect(await alter('alice', 'payments')).toBe('OK');
    expect(await alter('alice', 'secret')).toBe('TOPIC_AUTHORIZATION_FAILED');
    const alice = kafka('alice').admin();
    await alice.connect();
    const d = await alice.describeConfigs({
      resources: [{ type: 2, name: 'payments', configNames: ['retention.ms'] }],
      includeSynonyms: false,
    });
    await alice.disconnect();
    expect(d.resources[0]!.configEntries[0]!.configValue).toBe('3600000');
    // Broker configs need the operation on the cluster.
    const bob = kafka('bob').admin();
    await bob.connect();
    const b = await outcome(() =>
      bob.describeConfigs({ resources: [{ type: 4, name: '1' }], includeSynonyms: false }),
    );
    await bob.disconnect();
    expect(b).toBe('CLUSTER_AUTHORIZATION_FAILED');
  });

  it('describe ACLs needs DESCRIBE on the cluster, create and delete need ALTER', {
    timeout: 30_000,
  }, async () => {
    const filter = {
      resourceType: Res.ANY,
      resourcePatternType: Pattern.ANY,
      operation: Op.ANY,
      permissionType: Perm.ANY,
    } as const;
    const as = async <T>(user: User, fn: (a: ReturnType<Kafka['admin']>) => Promise<T>) => {
      const a = kafka(user).admin();
      await a.connect();
      try {
        return await fn(a);
      } finally {
        await a.disconnect();
      }
    };
    const described = await as('alice', (a) => a.describeAcls(filter));
    expect(described.resources.length).toBeGreaterThan(5);
    expect(await outcome(() => as('bob', (a) => a.describeAcls(filter)))).toBe(
      'CLUSTER_AUTHORIZATION_FAILED',
    );
    const acl = allow('User:bob', Res.GROUP, 'g-bob', Op.READ);
    expect(await outcome(() => as('alice', (a) => a.createAcls({ acl: [acl] })))).toBe(
      'CLUSTER_AUTHORIZATION_FAILED',
    );
    expect(await outcome(() => as('carol', (a) => a.createAcls({ acl: [acl] })))).toBe('OK');
    // The new ACL takes effect at once: bob may now consume in g-bob.
    expect((await consume('bob', 'orders', 'g-bob')).result).toBe('OK');
    const del = {
      ...filter,
      resourceType: Res.GROUP,
      resourceName: 'g-bob',
      resourcePatternType: Pattern.LITERAL,
    };
    expect(await outcome(() => as('bob', (a) => a.deleteAcls({ filters: [del] })))).toBe(
      'CLUSTER_AUTHORIZATION_FAILED',
    );
    const deleted = await as('carol', (a) => a.deleteAcls({ filters: [del] }));
    expect(deleted.filterResponses[0]!.matchingAcls).toHaveLength(1);
    expect(await librdkafkaConsume('bob', 'orders', 'g-bob')).toBe('GROUP_AUTHORIZATION_FAILED');
  });

  it('partition reassignment and leader election need ALTER (listing needs DESCRIBE) on the cluster', {
    timeout: 30_000,
  }, async () => {
    const as = async (user: User) => {
      const c = await RawConnection.open(broker.port());
      expect(await authenticatePlain(c, user, password(user))).toMatchObject({ errorCode: 0 });
      return c;
    };
    const bob = await as('bob');
    expect(
      await bob.send(ApiKey.ListPartitionReassignments, 0, { timeoutMs: 5000, topics: null }),
    ).toMatchObject({
      errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
    });
    expect(
      await bob.send(ApiKey.ElectLeaders, 2, {
        electionType: 0,
        topicPartitions: [{ topic: 'orders', partitions: [0] }],
        timeoutMs: 5000,
      }),
    ).toMatchObject({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED });
    expect(
      await bob.send(ApiKey.AlterPartitionReassignments, 0, {
        timeoutMs: 5000,
        topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, replicas: [1] }] }],
      }),
    ).toMatchObject({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED });
    bob.close();
    const admin = await as('admin');
    expect(
      await admin.send(ApiKey.ListPartitionReassignments, 0, { timeoutMs: 5000, topics: null }),
    ).toMatchObject({ errorCode: 0 });
    expect(
      await admin.send(ApiKey.ElectLeaders, 2, {
        electionType: 0,
        topicPartitions: [{ topic: 'orders', partitions: [0] }],
        timeoutMs: 5000,
      }),
    ).toMatchObject({ errorCode: 0 });
    admin.close();
  });
});
