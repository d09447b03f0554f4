import { MirrorConfig, MirrorSecrets } from '@fjord/contracts';
import { unseal } from '@fjord/fleet';
import { Admin } from '@platformatic/kafka';
import { abortableSleep } from '../abortableSleep.js';
import { checkDialTargets } from '../dialTargets.js';
import { KafkaSource } from '../KafkaSource.js';
import { CLIENT_DEFAULTS, instanceEndpoint, type KafkaEndpoint } from '../kafkaEndpoint.js';
import { startPosition } from '../startPosition.js';
import type { TaskContext } from '../TaskContext.js';
import { assignedPartitions } from '../taskAssignment.js';
import {
  type CopiedBatch,
  IdempotentMirrorWriter,
  type MirrorWriter,
  mirrorOffsetsGroup,
  mirrorTransactionalId,
  TransactionalMirrorWriter,
} from './MirrorWriter.js';
import { selectNames } from './nameSelection.js';
import { extendRuns, type OffsetRun, translateOffset } from './offsetTranslation.js';
import { type ProvenanceRule, recordsToCopy } from './provenance.js';
import { TargetTopicSync } from './TargetTopicSync.js';

const FETCH_WAIT_MS = 500;

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
 * Copies topics of a source cluster into the connector's instance (docs/adr/0022): task 0 keeps the
 * selected topics on the target (`TargetTopicSync`: created, grown, configs followed); every task
 * copies its partitions' records (same partition, key, value, headers and timestamp) through a
 * `MirrorWriter`, then commits the source offsets after them to the control plane, with the offset
 * runs that map source to target offsets. Exactly once (`exactlyOnce`, the default): each round is a
 * transaction on the target carrying its source offsets, which are where a task resumes. At least
 * once otherwise: a crash between a send and its commit sends those records again. Records that came
 * from the target through another mirror (their provenance header) are not copied back. Task 0 also
 * translates selected consumer groups' offsets (checkpoint, below).
 */
export async function runMirror(ctx: TaskContext): Promise<void> {
  const { connector, lease, store, signal } = ctx;
  const config = MirrorConfig.parse(connector.config);
  const secrets = MirrorSecrets.parse(JSON.parse(unseal(connector.sealedSecrets, ctx.adminSecret)));
  const clientId = `fjord-mirror-${connector.id}-${lease.task}`;
  // Fails at once on a refused bootstrap server; every connection to the source, to the brokers
  // its metadata names too, is judged again as it is made (guardKafkaDials, installed by main.ts).
  await checkDialTargets('mirror', config, ctx.allowedNetworks);
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
  const writer: MirrorWriter = config.exactlyOnce
    ? new TransactionalMirrorWriter(
        to,
        clientId,
        mirrorTransactionalId(connector.id, lease.task),
        mirrorOffsetsGroup(connector.id),
        targetAdmin,
      )
    : new IdempotentMirrorWriter(to, clientId);
  const labels = { instance: connector.instanceId, connector: connector.id, task: String(lease.task) };

  const topics = new TargetTopicSync(config, sourceAdmin, targetAdmin, source, ctx.log);
  /** The selected source topics and their partition counts; task 0 makes the target match. */
  const syncTopics = async (): Promise<Map<string, number>> => {
    const counts = await topics.selected();
    if (lease.task === 0) await topics.apply(counts);
    return counts;
  };
  const [sourceCluster, targetCluster] = await Promise.all([
    sourceAdmin.metadata({ topics: [] }),
    targetAdmin.metadata({ topics: [] }),
  ]);
  const provenance: ProvenanceRule = {
    // A cluster too old to have an id is named by its bootstrap servers.
    sourceClusterId: sourceCluster.id || config.source.bootstrapServers.join('+'),
    targetClusterId: targetCluster.id,
    stamp: config.provenanceHeader,
  };

  let nextCheckpoint = 0;
  /**
   * Task 0, every checkpointIntervalMs (MirrorMaker 2's checkpoints with sync.group.offsets): the
   * selected groups' committed source offsets, translated through the offset runs, are written to
   * the same groups on the target while they have no members there, and only forward. A failure
   * waits for the next interval: the copy itself goes on.
   */
  const checkpoint = async (topics: ReadonlySet<string>): Promise<void> => {
    if (lease.task !== 0 || config.groupsInclude.length === 0 || Date.now() < nextCheckpoint) return;
    nextCheckpoint = Date.now() + config.checkpointIntervalMs;
    try {
      const groups = selectNames(
        [...(await sourceAdmin.listGroups()).keys()],
        config.groupsInclude,
        config.groupsExclude,
      );
      if (groups.length === 0) return;
      const committed = await sourceAdmin.listConsumerGroupOffsets({ groups });
      const runs = await store.offsetRuns(connector.id, [...topics]);
      const onTarget = await targetAdmin.describeGroups({ groups });
      for (const g of committed) {
        const state = onTarget.get(g.groupId)?.state;
        if (state !== undefined && state !== 'EMPTY' && state !== 'DEAD') continue; // its consumers own it
        const [current] = await targetAdmin.listConsumerGroupOffsets({ groups: [g.groupId] });
        const have = new Map<string, bigint>(
          (current?.topics ?? []).flatMap((t) =>
            t.partitions.map((p) => [`${t.name}/${p.partitionIndex}`, p.committedOffset] as const),
          ),
        );
        const writes = g.topics
          .filter((t) => topics.has(t.name))
          .map((t) => ({
            name: t.name,
            partitionOffsets: t.partitions.flatMap((p) => {
              if (p.committedOffset < 0n) return [];
              const key = `${t.name}/${p.partitionIndex}`;
              const offset = translateOffset(runs.get(key) ?? [], p.committedOffset);
              return offset !== undefined && offset > (have.get(key) ?? -1n)
                ? [{ partition: p.partitionIndex, offset }]
                : [];
            }),
          }))
          .filter((t) => t.partitionOffsets.length > 0);
        if (writes.length === 0) continue;
        await targetAdmin.alterConsumerGroupOffsets({ groupId: g.groupId, topics: writes });
        ctx.log.info({ group: g.groupId, topics: writes.length }, 'mirror translated group offsets');
      }
    } catch (err) {
      ctx.log.warn({ err }, 'mirror checkpoint failed; trying again at the next interval');
    }
  };

  try {
    await writer.start();
    while (!signal.aborted) {
      const counts = await syncTopics();
      const mirrored = new Set(counts.keys());
      const mine = assignedPartitions(counts, connector.tasksMax, lease.task);
      if (mine.length === 0) {
        ctx.healthy();
        await checkpoint(mirrored);
        await abortableSleep(Math.min(config.topicSyncIntervalMs, config.checkpointIntervalMs), signal);
        continue;
      }
      const progress = new Map(
        (await store.progress(connector.id)).map((p) => [`${p.topic}/${p.partition}`, p]),
      );
      // Exactly once: a pending reset comes first (its first round's transaction commits it to the
      // target group too), then the target's copy of the offsets, committed with the records; the
      // control plane's (written after each commit) covers partitions the target has none for yet.
      const resumeAt = await writer.resumeOffsets(mine);
      const runs = await store.offsetRuns(connector.id, [...new Set(mine.map((m) => m.topic))]);
      const lastRun = new Map([...runs].map(([k, list]) => [k, list.at(-1)]));
      const positions = new Map<string, { topic: string; partition: number; offset: bigint }>();
      for (const m of mine) {
        const k = `${m.topic}/${m.partition}`;
        const start = startPosition(progress.get(k), resumeAt.get(k));
        if (start.from === 'reset')
          ctx.log.info(
            { topic: m.topic, partition: m.partition, offset: start.offset },
            'mirror starts from reset offsets',
          );
        const offset = start.offset ?? (await source.earliest(m.topic, [m.partition]))[0] ?? 0n;
        positions.set(k, { ...m, offset });
      }
      const syncAt = Date.now() + config.topicSyncIntervalMs;
      while (!signal.aborted && Date.now() < syncAt) {
        await checkpoint(mirrored);
        const fetched = await source.fetch([...positions.values()], FETCH_WAIT_MS);
        if (signal.aborted) return;
        // Records that came from the target are left out (no cycles); their offsets are a gap in the runs.
        const advanced: CopiedBatch[] = fetched
          .filter((f) => {
            const pos = positions.get(`${f.topic}/${f.partition}`);
            return pos !== undefined && f.nextOffset !== pos.offset;
          })
          .map((f) => ({ ...f, records: recordsToCopy(f.records, provenance) }));
        const landed = await writer.write(advanced);
        for (const f of advanced) {
          const k = `${f.topic}/${f.partition}`;
          const pos = positions.get(k)!;
          let madeRuns: OffsetRun[] = [];
          const base = landed.get(k);
          if (base !== undefined && f.records.length > 0) {
            madeRuns = extendRuns(
              lastRun.get(k),
              f.records.map((r) => r.offset),
              base,
            );
            if (madeRuns.length > 0) lastRun.set(k, madeRuns.at(-1));
          }
          ctx.metrics.records.inc(labels, f.records.length);
          ctx.metrics.bytes.inc(
            labels,
            f.records.reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0),
          );
          await store.commit(
            lease,
            { topic: f.topic, partition: f.partition, offset: f.nextOffset, pending: null },
            madeRuns,
          );
          pos.offset = f.nextOffset;
        }
        for (const f of fetched) {
          const pos = positions.get(`${f.topic}/${f.partition}`);
          if (!pos) continue;
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
    await writer.close();
    await sourceAdmin.close().catch(() => {});
    await targetAdmin.close().catch(() => {});
  }
}
