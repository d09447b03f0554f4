// Partition reassignment with kafkajs's admin client (a real client's AlterPartitionReassignments
// and ListPartitionReassignments). Usage:
//   node reassign.mjs BOOTSTRAP TOPIC '{"0":[4,5,6],...}'   → starts the moves, prints {"started":true}
//   node reassign.mjs BOOTSTRAP TOPIC list                  → prints {"ongoing":[...]}
import { Kafka, logLevel } from 'kafkajs';

const [bootstrap, topic, what] = process.argv.slice(2);
const admin = new Kafka({
  brokers: bootstrap.split(','),
  clientId: 'reassign',
  logLevel: logLevel.NOTHING,
}).admin();
await admin.connect();
if (what === 'list') {
  const r = await admin.listPartitionReassignments({ topics: null, timeout: 10000 });
  console.log(
    JSON.stringify({ ongoing: r.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, ...p }))) }),
  );
} else {
  const targets = JSON.parse(what);
  await admin.alterPartitionReassignments({
    topics: [
      {
        topic,
        partitionAssignment: Object.entries(targets).map(([partition, replicas]) => ({
          partition: Number(partition),
          replicas,
        })),
      },
    ],
    timeout: 10000,
  });
  console.log(JSON.stringify({ started: true }));
}
await admin.disconnect();
