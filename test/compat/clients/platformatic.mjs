// Compat driver for @platformatic/kafka. Usage: node platformatic.mjs <scenario> <bootstrap> [args...].
import { existsSync, readFileSync } from 'node:fs';
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';

const [scenario, bootstrap, ...args] = process.argv.slice(2);
// Failures end with their message on the last line (the harness shows the tail of stderr).
const fail = (e) => {
  console.error(e);
  // MultipleErrors (a retried operation) carries the attempts' errors, and a ResponseError the
  // broker's error codes per path: show both (e.g. PLT_KFK_RESPONSE[/responses/0: NOT_LEADER_OR_FOLLOWER]).
  const describe = (c) => {
    const inner = (c?.errors ?? []).map((x) => `${x?.path ?? ''}: ${x?.apiId ?? x?.code ?? x?.message}`);
    return `${c?.apiId ?? c?.code ?? c?.message}${inner.length ? `[${[...new Set(inner)].join('; ')}]` : ''}`;
  };
  const causes = [...new Set((e?.errors ?? []).map(describe))].join(', ');
  console.error(`error: ${e?.message ?? e}${causes ? ` (${causes})` : ''}`);
  process.exit(1);
};
process.on('unhandledRejection', fail);
process.on('uncaughtException', fail);
const base = { clientId: 'fjord-compat-platformatic', bootstrapBrokers: bootstrap.split(',') };
// FJORD_SECURITY: {protocol, mechanism, username, password, ca} for SASL_PLAINTEXT / SASL_SSL listeners.
const sec = process.env.FJORD_SECURITY ? JSON.parse(process.env.FJORD_SECURITY) : null;
if (sec) {
  base.sasl = { mechanism: sec.mechanism, username: sec.username, password: sec.password };
  if (sec.ca) base.tls = { ca: readFileSync(sec.ca) };
}
const out = (o) => console.log(JSON.stringify(o));

switch (scenario) {
  case 'metadata': {
    const admin = new Admin(base);
    const md = await admin.metadata({ topics: await admin.listTopics() });
    await admin.close();
    out({ brokers: md.brokers.size, topics: [...md.topics.keys()] });
    break;
  }
  case 'produce': {
    const [topic, n, codec, idempotent] = args;
    const producer = new Producer({
      ...base,
      serializers: stringSerializers,
      idempotent: idempotent === 'true',
      compression: codec,
      acks: -1,
      autocreateTopics: true,
    });
    const messages = Array.from({ length: Number(n) }, (_, i) => ({ topic, key: `k${i}`, value: `v${i}` }));
    for (let i = 0; i < messages.length; i += 10)
      await producer.send({ messages: messages.slice(i, i + 10) });
    await producer.close();
    out({ acked: messages.length });
    break;
  }
  case 'consume':
  case 'consume-static': {
    // consume TOPIC GROUP COUNT IDLE_MS [GO_FILE] | consume-static TOPIC GROUP COUNT INSTANCE_ID SESSION_MS
    const staticMember = scenario === 'consume-static';
    const [topic, group, n, idleOrInstance, goOrSession] = args;
    const count = Number(n);
    const idleMs = staticMember ? 0 : Number(idleOrInstance);
    const goFile = staticMember ? undefined : goOrSession;
    const consumer = new Consumer({
      ...base,
      groupId: group,
      deserializers: stringDeserializers,
      ...(staticMember && { groupInstanceId: idleOrInstance }),
      sessionTimeout: staticMember ? Number(goOrSession) : 10000,
      ...(staticMember && { rebalanceTimeout: Number(goOrSession) }),
      heartbeatInterval: 500,
      // Each member that stops starts another rebalance; on a busy machine (CI runs this beside
      // replicated clusters) three defaults-spaced rejoin attempts can all land in one.
      retries: 10,
    });
    const stream = await consumer.consume({
      topics: [topic],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: 200,
    });
    const records = [];
    let last = Date.now();
    const started = Date.now();
    stream.on('data', (m) => {
      records.push({ p: m.partition, o: Number(m.offset), v: m.value });
      last = Date.now();
    });
    // With a go file, the idle clock starts only once the harness has created it (after producing).
    let goAt = goFile ? null : started;
    while (
      !(count >= 0 && records.length >= count) &&
      !(count < 0 && goAt !== null && Date.now() - last > idleMs && Date.now() - goAt > idleMs)
    ) {
      // A missing record ends the wait 60 s after the go file (or the start), 200 s without it.
      if (goAt !== null ? Date.now() - goAt > 60000 : Date.now() - started > 200000) break;
      if (goAt === null && existsSync(goFile)) goAt = last = Date.now();
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500)); // let autocommit run
    if (staticMember) {
      // This client's close() sends LeaveGroup for static members too (Java's and librdkafka's do
      // not), which removes them on Kafka as here; a static member is for a process that goes away
      // without leaving, so this one exits as a restarted pod would.
      await stream.close();
      out({ records });
      process.exit(0);
    }
    await stream.close();
    await consumer.close();
    out({ records });
    break;
  }
  case 'transaction': {
    // Aborts 5 records, then commits 10: the harness checks a read_committed consumer sees the 10 only.
    const [topic, transactionalId] = args;
    const producer = new Producer({
      ...base,
      serializers: stringSerializers,
      idempotent: true,
      transactionalId,
      autocreateTopics: true,
      // Its request timeout (5 s by default) also resends InitProducerId, naming producer id 0
      // rather than -1: a resend after a slow first answer is fenced, on Kafka as here. A busy
      // machine may be slow; it must not fail.
      timeout: 60000,
    });
    const batch = (n, prefix) =>
      Array.from({ length: n }, (_, i) => ({ topic, key: `k${i}`, value: `${prefix}${i}` }));
    const aborted = await producer.beginTransaction();
    await aborted.send({ messages: batch(5, 'aborted') });
    await aborted.abort();
    const committed = await producer.beginTransaction();
    await committed.send({ messages: batch(10, 'v') });
    await committed.commit();
    await producer.close();
    out({ committed: 10 });
    break;
  }
  case 'admin': {
    const [topic] = args;
    const admin = new Admin(base);
    await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
    await admin.createPartitions({ topics: [{ name: topic, count: 4, assignments: [] }] });
    const md = await admin.metadata({ topics: [topic] });
    const partitions = md.topics.get(topic).partitionsCount;
    await admin.deleteTopics({ topics: [topic] });
    const after = await admin.listTopics();
    await admin.close();
    out({ created: true, partitions, deleted: !after.includes(topic) });
    break;
  }
  case 'configs': {
    const [topic] = args;
    const admin = new Admin(base);
    const get = async () => {
      const [d] = await admin.describeConfigs({
        resources: [{ resourceType: 2, resourceName: topic, configurationKeys: ['retention.ms'] }],
      });
      return d.configs.find((c) => c.name === 'retention.ms').value;
    };
    const before = await get();
    await admin.alterConfigs({
      resources: [
        { resourceType: 2, resourceName: topic, configs: [{ name: 'retention.ms', value: '12345' }] },
      ],
    });
    const after = await get();
    await admin.close();
    out({ before, after });
    break;
  }
  default:
    console.error(`unknown scenario ${scenario}`);
    process.exit(2);
}
