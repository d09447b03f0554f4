import { Consumer } from '@platformatic/kafka';
import { committedBatches } from './committedBatches.js';
import { CLIENT_DEFAULTS, type KafkaEndpoint } from './kafkaEndpoint.js';
import type { SinkRecord } from './s3/objectLayout.js';

export interface PartitionPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

export interface FetchedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly records: SinkRecord[];
  /** Where the next fetch of this partition starts. */
  readonly nextOffset: bigint;
  readonly highWatermark: bigint;
}

/** Kafka's error codes the reader acts on. */
const OFFSET_OUT_OF_RANGE = 1;
const PARTITION_BYTES = 1024 * 1024;

/**
 * Reads partitions of a cluster as a Kafka client (@platformatic/kafka): Fetch from each partition's
 * leader at offsets the task keeps, with no consumer group, since progress lives with the connector
 * (docs/adr/0022-connector-runtime.md). Reads committed data only (read_committed, the client's
 * default), dropping markers and aborted transactions' batches as a consumer does.
 */
export class KafkaSource {
  private readonly consumer: Consumer;

  constructor(endpoint: KafkaEndpoint, clientId: string) {
    this.consumer = new Consumer({
      clientId,
      groupId: clientId, // required by the client's options; never joined
      bootstrapBrokers: endpoint.bootstrap,
      ...endpoint.connection,
      ...CLIENT_DEFAULTS,
    });
  }

  /** Partition counts of the topics (a topic not on the cluster yet has none). */
  async partitions(topics: readonly string[]): Promise<Map<string, number>> {
    const md = await this.consumer.metadata({ topics: [...topics], forceUpdate: true });
    const out = new Map<string, number>();
    for (const t of topics) out.set(t, md.topics.get(t)?.partitionsCount ?? 0);
    return out;
  }

  /** Earliest offsets still in the log (where a sink without progress starts, as Kafka Connect's sinks do). */
  async earliest(topic: string, partitions: readonly number[]): Promise<bigint[]> {
    const r = await this.consumer.listOffsets({
      topics: [topic],
      partitions: { [topic]: [...partitions] },
      timestamp: -2n,
    });
    const all = r.get(topic) ?? [];
    return partitions.map((p) => all[p] ?? 0n);
  }

  /** One Fetch per leader for the positions given, waiting up to `maxWaitMs` for data. */
  async fetch(positions: readonly PartitionPosition[], maxWaitMs: number): Promise<FetchedPartition[]> {
    const topics = [...new Set(positions.map((p) => p.topic))];
    const md = await this.consumer.metadata({ topics, forceUpdate: false });
    const byLeader = new Map<number, PartitionPosition[]>();
    for (const p of positions) {
      const leader = md.topics.get(p.topic)?.partitions[p.partition]?.leader ?? -1;
      if (leader < 0) continue;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
    }
    const out: FetchedPartition[] = [];
    let stale = false;
    await Promise.all(
      [...byLeader].map(async ([node, ps]) => {
        const idToName = new Map<string, string>();
        const request = new Map<string, PartitionPosition[]>();
        for (const p of ps) {
          const id = md.topics.get(p.topic)!.id;
          idToName.set(id, p.topic);
          request.set(id, [...(request.get(id) ?? []), p]);
        }
        const r = await this.consumer.fetch({
          node,
          maxWaitTime: maxWaitMs,
          minBytes: 1,
          maxBytes: 16 * PARTITION_BYTES,
          topics: [...request].map(([topicId, tps]) => ({
            topicId,
            partitions: tps.map((p) => ({
              partition: p.partition,
              fetchOffset: p.offset,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
              partitionMaxBytes: PARTITION_BYTES,
            })),
          })),
        });
        for (const t of r.responses) {
          const topic = idToName.get(t.topicId);
          if (topic === undefined) continue;
          for (const p of t.partitions) {
            const asked = request.get(t.topicId)?.find((x) => x.partition === p.partitionIndex);
            if (!asked) continue;
            if (p.errorCode === OFFSET_OUT_OF_RANGE) {
              // Retention removed what was not yet delivered: resume at the log start, as a sink
              // with auto.offset.reset=earliest does. Anything past the end is not ours to skip to.
              // biome-ignore lint/complexity/useMathMinMax: bigints (Math.max takes numbers)
              const next = p.logStartOffset > asked.offset ? p.logStartOffset : asked.offset;
              out.push({
                topic,
                partition: p.partitionIndex,
                records: [],
                nextOffset: next,
                highWatermark: p.highWatermark,
              });
              continue;
            }
            if (p.errorCode !== 0) {
              stale = true; // leadership moved or the topic changed: ask again with fresh metadata
              continue;
            }
            const records: SinkRecord[] = [];
            let next = asked.offset;
            const batches = p.records ?? [];
            for (const batch of committedBatches(batches, p.abortedTransactions ?? [])) {
              for (const rec of batch.records) {
                const offset = batch.firstOffset + BigInt(rec.offsetDelta);
                if (offset < asked.offset) continue;
                records.push({
                  topic,
                  partition: p.partitionIndex,
                  offset,
                  timestamp: Number(batch.firstTimestamp + rec.timestampDelta),
                  key: rec.key,
                  value: rec.value,
                  headers: rec.headers,
                });
              }
            }
            // Batches may end in records compaction removed, and markers and aborted batches carry
            // none: continue after the last batch.
            for (const batch of batches) {
              const batchEnd = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
              if (batchEnd > next) next = batchEnd;
            }
            out.push({
              topic,
              partition: p.partitionIndex,
              records,
              nextOffset: next,
              highWatermark: p.highWatermark,
            });
          }
        }
      }),
    );
    if (stale) await this.consumer.metadata({ topics, forceUpdate: true }).catch(() => {});
    return out;
  }

  async close(): Promise<void> {
    // force: no group to leave, and in-flight fetches are abandoned with the task.
    await new Promise<void>((resolve) => this.consumer.close(true, () => resolve()));
  }
}
