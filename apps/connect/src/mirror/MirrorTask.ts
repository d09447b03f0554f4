import { MirrorConfig, MirrorSecrets } from '@fjord/contracts';
import { unseal } from '@fjord/fleet';
import { Admin, ConfigResourceTypes, ConfigSources, Producer } from '@platformatic/kafka';
import { abortableSleep } from '../abortableSleep.js';
import { KafkaSource } from '../KafkaSource.js';
import { CLIENT_DEFAULTS, instanceEndpoint, type KafkaEndpoint } from '../kafkaEndpoint.js';
import type { TaskContext } from '../TaskContext.js';
import { assignedPartitions } from '../taskAssignment.js';
import { selectTopics } from './topicSelection.js';

const FETCH_WAIT_MS = 500;
/** How often the topic set is compared with the source's (new topics, more partitions). */
const TOPIC_SYNC_MS = 10_000;

function sourceEndpoint(config: MirrorConfig, secrets: MirrorSecrets): KafkaEndpoint {
  const protocol = config.source.securityProtocol;
  const tls = protocol === 'SSL' || protocol === 'SASL_SSL';
  return {
    bootstrap: config.source.bootstrapServers,
    connection: {
      ...(tls ? { tls: config.source.caPem ? { ca: config.source.caPem } : {} } : {}),
      ...(config.source.saslMechanism
        ? {
            sasl: {
              mechanism: config.source.saslMechanism,
              ...(secrets.saslUsername ? { username: secrets.saslUsername } : {}),
              ...(secrets.saslPassword ? { password: secrets.saslPassword } : {}),
            },
          }
        : {}),
    },
  };
}

/**
 * Copies topics of a source cluster into the connector's instance (docs/adr/0022): task 0 creates
 * the selected topics on the target with the source's partition count and topic-level configs, and
 * adds partitions when the source grows; every task copies its partitions' records (same partition,
 * key, value, headers and timestamp) with an idempotent acks=all producer, then commits the source
 * offset after them. At least once: a crash between a send and its commit sends those records again
 * (exactly once needs transactions on the target).
 */
export async function runMirror(ctx: TaskContext): Promise<void> {
  const { connector, lease, store, signal } = ctx;
  const config = MirrorConfig.parse(connector.config);
  const secrets = MirrorSecrets.parse(JSON.parse(unseal(connector.sealedSecrets, ctx.adminSecret)));
  const clientId = `fjord-mirror-${connector.id}-${lease.task}`;
  const from = sourceEndpoint(config, secrets);
  const to = await instanceEndpoint(store, connector.instanceId, ctx.adminSecret);
  const sourceAdmin = new Admin({
    clientId,
    bootstrapBrokers: from.bootstrap,
    ...from.connection,
    ...CLIENT_DEFAULTS,
  });
  const targetAdmin = new Admin({
    clientId,
    bootstrapBrokers: to.bootstrap,
    ...to.connection,
    ...CLIENT_DEFAULTS,
  });
  const source = new KafkaSource(from, clientId);
  const producer = new Producer({
    clientId,
    bootstrapBrokers: to.bootstrap,
    ...to.connection,
    ...CLIENT_DEFAULTS,
    retries: 3, // leadership moves on the target are retried by the client, not by failing the task
    idempotent: true,
    acks: -1,
  });
  const labels = { instance: connector.instanceId, connector: connector.id, task: String(lease.task) };

  /** The selected source topics and their partition counts; task 0 makes the target match. */
  const syncTopics = async (): Promise<Map<string, number>> => {
    const names = selectTopics(await sourceAdmin.listTopics(), config.topicsInclude, config.topicsExclude);
    const counts = names.length ? await source.partitions(names) : new Map<string, number>();
    if (lease.task !== 0 || names.length === 0) return counts;
    const target = await targetAdmin.metadata({ topics: [], forceUpdate: true });
    const existing = new Set(await targetAdmin.listTopics());
    for (const name of names) {
      const partitions = counts.get(name) ?? 0;
      if (partitions === 0) continue;
      if (!existing.has(name)) {
        const [described] = await sourceAdmin.describeConfigs({
          resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: name, configurationKeys: [] }],
        });
        const configs = (described?.configs ?? [])
          .filter((c) => c.configSource === ConfigSources.TOPIC_CONFIG && !c.readOnly && c.value !== null)
          .map((c) => ({ name: c.name, value: c.value }));
        await targetAdmin.createTopics({
          topics: [name],
          partitions,
          replicas: config.replicationFactor ?? -1,
          configs,
        });
        ctx.log.info({ topic: name, partitions, configs: configs.length }, 'mirror created topic');
      } else {
        const have =
          target.topics.get(name)?.partitionsCount ?? (await source.partitions([name])).get(name) ?? 0;
        if (have < partitions)
          await targetAdmin.createPartitions({ topics: [{ name, count: partitions, assignments: [] }] });
      }
    }
    return counts;
  };

  try {
    while (!signal.aborted) {
      const counts = await syncTopics();
      const mine = assignedPartitions(counts, connector.tasksMax, lease.task);
      if (mine.length === 0) {
        ctx.healthy();
        await abortableSleep(TOPIC_SYNC_MS, signal);
        continue;
      }
      const progress = new Map(
        (await store.progress(connector.id)).map((p) => [`${p.topic}/${p.partition}`, p.offset]),
      );
      const positions = new Map<string, { topic: string; partition: number; offset: bigint }>();
      for (const m of mine) {
        const k = `${m.topic}/${m.partition}`;
        const offset = progress.get(k) ?? (await source.earliest(m.topic, [m.partition]))[0] ?? 0n;
        positions.set(k, { ...m, offset });
      }
      const syncAt = Date.now() + TOPIC_SYNC_MS;
      while (!signal.aborted && Date.now() < syncAt) {
        const fetched = await source.fetch([...positions.values()], FETCH_WAIT_MS);
        if (signal.aborted) return;
        for (const f of fetched) {
          const pos = positions.get(`${f.topic}/${f.partition}`);
          if (!pos) continue;
          if (f.records.length > 0) {
            await producer.send({
              messages: f.records.map((r) => ({
                topic: r.topic,
                partition: r.partition,
                ...(r.key !== null ? { key: r.key } : {}),
                ...(r.value !== null ? { value: r.value } : {}),
                // Buffers as keys: repeated header names stay, in order, as Kafka allows.
                headers: new Map(r.headers.map(([k, v]) => [k ?? Buffer.alloc(0), v ?? Buffer.alloc(0)])),
                timestamp: BigInt(r.timestamp),
              })),
            });
            ctx.metrics.records.inc(labels, f.records.length);
            ctx.metrics.bytes.inc(
              labels,
              f.records.reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0),
            );
          }
          if (f.nextOffset !== pos.offset) {
            await store.commit(lease, {
              topic: f.topic,
              partition: f.partition,
              offset: f.nextOffset,
              pending: null,
            });
            pos.offset = f.nextOffset;
          }
          ctx.metrics.lag.set(
            {
              instance: connector.instanceId,
              connector: connector.id,
              topic: f.topic,
              partition: String(f.partition),
            },
            Number(f.highWatermark - pos.offset),
          );
        }
        ctx.healthy();
      }
    }
  } finally {
    await source.close();
    await new Promise<void>((resolve) => producer.close(true, () => resolve()));
    await sourceAdmin.close().catch(() => {});
    await targetAdmin.close().catch(() => {});
  }
}
