// Compat driver for kafka-node 5 (Kafka 0.9–0.11 protocols, legacy message formats).
const kafka = require('kafka-node');
const { existsSync } = require('node:fs');

const [scenario, bootstrap, ...args] = process.argv.slice(2);
const out = (o) => console.log(JSON.stringify(o));
// FJORD_SECURITY: {protocol, mechanism, username, password, ca} for SASL_PLAINTEXT / SASL_SSL listeners.
const sec = process.env.FJORD_SECURITY ? JSON.parse(process.env.FJORD_SECURITY) : null;
const security = sec
  ? {
      sasl: { mechanism: sec.mechanism.toLowerCase(), username: sec.username, password: sec.password },
      ...(sec.ca && { ssl: true, sslOptions: { ca: [require('node:fs').readFileSync(sec.ca)] } }),
    }
  : {};
const client = () => new kafka.KafkaClient({ kafkaHost: bootstrap, requestTimeout: 10000, ...security });
const p = (fn) => new Promise((res, rej) => fn((err, v) => (err ? rej(err) : res(v))));
const CODECS = { none: 0, gzip: 1, snappy: 2 };

async function main() {
  switch (scenario) {
    case 'metadata': {
      const c = client();
      const [brokers, meta] = await p((cb) => c.loadMetadataForTopics([], cb));
      c.close();
      out({ brokers: Object.keys(brokers).length, topics: Object.keys(meta.metadata) });
      break;
    }
    case 'produce': {
      const [topic, n, codec] = args;
      const c = client();
      // Cyclic partitioner: kafka-node's keyed one hashes these short keys onto a single partition.
      // ackTimeoutMs: kafka-node's default of 100 ms is shorter than a replicated acks=all write can take
      // on a busy machine (the broker then answers REQUEST_TIMED_OUT); Kafka's own producers wait 30 s.
      const producer = new kafka.Producer(c, { requireAcks: -1, ackTimeoutMs: 10000, partitionerType: 2 });
      await new Promise((res, rej) => {
        producer.on('ready', res);
        producer.on('error', rej);
      });
      // The replication factor of the target (a cluster's min.insync.replicas refuses acks=all on RF 1).
      const replicationFactor = Number(process.env.FJORD_COMPAT_RF ?? 1);
      await p((cb) => c.createTopics([{ topic, partitions: 1, replicationFactor }], () => cb()));
      await p((cb) => c.refreshMetadata([topic], cb));
      for (let i = 0; i < Number(n); i += 10) {
        const messages = [];
        for (let j = i; j < Math.min(i + 10, Number(n)); j++)
          messages.push(new kafka.KeyedMessage(`k${j}`, `v${j}`));
        await p((cb) => producer.send([{ topic, messages, attributes: CODECS[codec] }], cb));
      }
      producer.close(() => {});
      out({ acked: Number(n) });
      break;
    }
    case 'consume': {
      const [topic, group, n, idle, goFile] = args;
      const count = Number(n);
      const idleMs = Number(idle);
      const cg = new kafka.ConsumerGroup(
        {
          kafkaHost: bootstrap,
          groupId: group,
          fromOffset: 'earliest',
          autoCommit: true,
          autoCommitIntervalMs: 200,
          sessionTimeout: 10000,
          protocol: ['roundrobin'],
          ...security,
        },
        [topic],
      );
      const records = [];
      let last = Date.now();
      const started = Date.now();
      cg.on('message', (m) => {
        records.push({ p: m.partition, o: m.offset, v: m.value });
        last = Date.now();
      });
      cg.on('error', (e) => console.error(String(e)));
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
      await p((cb) => cg.commit(true, cb)).catch(() => {});
      await p((cb) => cg.close(true, cb));
      out({ records });
      break;
    }
    default:
      console.error(`unknown scenario ${scenario}`);
      process.exit(2);
  }
}
main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    // Last, so the harness (which shows the tail of stderr) shows what went wrong.
    console.error(`error: ${e?.message ?? e}`);
    process.exit(1);
  },
);
