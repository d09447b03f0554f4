// Compat driver for kafkajs. Usage: node kafkajs.mjs <scenario> <bootstrap> [args...]; prints one JSON line.
import { existsSync, readFileSync } from 'node:fs';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';

const [scenario, bootstrap, ...args] = process.argv.slice(2);
// Failures end with their message on the last line (the harness shows the tail of stderr).
const fail = (e) => {
  console.error(e);
  console.error(`error: ${e?.message ?? e}`);
  process.exit(1);
};
process.on('unhandledRejection', fail);
process.on('uncaughtException', fail);
// FJORD_SECURITY: {protocol, mechanism, username, password, ca} for SASL_PLAINTEXT / SASL_SSL listeners.
const sec = process.env.FJORD_SECURITY ? JSON.parse(process.env.FJORD_SECURITY) : null;
const kafka = new Kafka({
  brokers: bootstrap.split(','),
  clientId: 'fjord-compat-kafkajs',
  logLevel: logLevel.NOTHING,
  retry: { retries: 5 },
  ...(sec && {
    sasl: { mechanism: sec.mechanism.toLowerCase(), username: sec.username, password: sec.password },
    ssl: sec.ca ? { ca: [readFileSync(sec.ca, 'utf8')] } : false,
  }),
});
const CODECS = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP };
const out = (o) => console.log(JSON.stringify(o));

async function consumeGroup(topic, group, count, idleMs, goFile) {
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const records = [];
  let last = Date.now();
  const started = Date.now();
  await consumer.run({
    autoCommit: true,
    eachMessage: async ({ partition, message }) => {
      records.push({ p: partition, o: Number(message.offset), v: message.value?.toString() ?? null });
      last = Date.now();
    },
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
  await consumer.stop();
  await consumer.disconnect();
  return records;
}

switch (scenario) {
  case 'metadata': {
    const admin = kafka.admin();
    await admin.connect();
    const cluster = await admin.describeCluster();
    const topics = await admin.listTopics();
    await admin.disconnect();
    out({ brokers: cluster.brokers.length, topics });
    break;
  }
  case 'produce': {
    const [topic, n, codec, idempotent] = args;
    const producer = kafka.producer({
      idempotent: idempotent === 'true',
      maxInFlightRequests: idempotent === 'true' ? 1 : 5,
    });
    await producer.connect();
    const messages = Array.from({ length: Number(n) }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    for (let i = 0; i < messages.length; i += 10)
      await producer.send({
        topic,
        acks: -1,
        compression: CODECS[codec],
        messages: messages.slice(i, i + 10),
      });
    await producer.disconnect();
    out({ acked: messages.length });
    break;
  }
  case 'transaction': {
    const [topic, transactionalId] = args;
    const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send({
      topic,
      messages: Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: `aborted${i}` })),
    });
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    });
    await committed.commit();
    await producer.disconnect();
    out({ committed: 10 });
    break;
  }
  case 'consume': {
    const [topic, group, n, idle, goFile] = args;
    out({ records: await consumeGroup(topic, group, Number(n), Number(idle ?? 3000), goFile) });
    break;
  }
  case 'admin': {
    const [topic] = args;
    const admin = kafka.admin();
    await admin.connect();
    const created = await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.deleteTopics({ topics: [topic] });
    const after = await admin.listTopics();
    await admin.disconnect();
    out({ created, partitions: meta.topics[0].partitions.length, deleted: !after.includes(topic) });
    break;
  }
  case 'configs': {
    const [topic] = args;
    const admin = kafka.admin();
    await admin.connect();
    const get = async () =>
      (
        await admin.describeConfigs({
          resources: [{ type: 2, name: topic, configNames: ['retention.ms'] }],
          includeSynonyms: false,
        })
      ).resources[0].configEntries[0].configValue;
    const before = await get();
    await admin.alterConfigs({
      resources: [{ type: 2, name: topic, configEntries: [{ name: 'retention.ms', value: '12345' }] }],
    });
    const after = await get();
    await admin.disconnect();
    out({ before, after });
    break;
  }
  default:
    console.error(`unknown scenario ${scenario}`);
    process.exit(2);
}
