import type { EffectiveConfigs, MetadataImage } from '@fjord/metadata';
import { ErrorCode } from '@fjord/protocol';
import type { Logger } from 'pino';
import { type LogConfig, logConfigFromTopicConfigs } from '../storage/LogConfig.js';
import type { LogManager } from '../storage/LogManager.js';
import { Partition } from './Partition.js';

/** Broker-level log defaults by Kafka broker key (after resolution of ms/hours synonyms). */
export type BrokerLogDefaults = ReadonlyMap<string, unknown>;

/**
 * The partitions this broker hosts. Follows the metadata image: creates logs for new
 * replicas, updates roles, deletes logs of removed topics. Produce and fetch go through here.
 */
export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();

  constructor(
    private readonly brokerId: number,
    private readonly logs: LogManager,
    private readonly configSource: EffectiveConfigs,
    private readonly log: Logger,
  ) {
    logs.onDirOffline((event) => {
      for (const tp of event.partitions) {
        const p = this.get(tp.topic, tp.partition);
        if (p) p.offline = true;
      }
      this.log.error(
        { dir: event.dir, partitions: event.partitions.length, err: event.error },
        'log dir offline',
      );
    });
  }

  get(topic: string, partition: number): Partition | undefined {
    return this.partitions.get(`${topic}\u0000${partition}`);
  }

  /**
   * The partition this broker leads, or the error Kafka answers with: UNKNOWN_TOPIC_OR_PARTITION
   * when the partition does not exist, NOT_LEADER_OR_FOLLOWER when another broker leads it, and
   * for a client that knows a leader epoch (KIP-320), FENCED_LEADER_EPOCH when its epoch is
   * older than ours and UNKNOWN_LEADER_EPOCH when it is newer.
   */
  leaderFor(
    image: MetadataImage,
    topic: string,
    partition: number,
    currentLeaderEpoch = -1,
  ): Partition | number {
    const p = this.get(topic, partition);
    if (p?.offline) return ErrorCode.KAFKA_STORAGE_ERROR;
    if (!p?.isLeader)
      return image.partition(topic, partition)
        ? ErrorCode.NOT_LEADER_OR_FOLLOWER
        : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch !== p.leaderEpoch)
      return currentLeaderEpoch < p.leaderEpoch
        ? ErrorCode.FENCED_LEADER_EPOCH
        : ErrorCode.UNKNOWN_LEADER_EPOCH;
    return p;
  }

  all(): IterableIterator<Partition> {
    return this.partitions.values();
  }

  /** Applies a new metadata image: the only way partitions appear, change role or go away. */
  applyImage(image: MetadataImage, now: number): void {
    const seen = new Set<string>();
    for (const topic of image.topicsByName.values()) {
      const config = logConfigFor(this.configSource, image, topic.name);
      for (const state of topic.partitions) {
        if (!state?.replicas.includes(this.brokerId)) continue;
        const key = `${topic.name}\u0000${state.partition}`;
        seen.add(key);
        const existing = this.partitions.get(key);
        if (existing && existing.topicId === topic.topicId) {
          existing.state = state;
          existing.log.config = config;
          existing.maybeAdvanceHighWatermark();
          continue;
        }
        if (existing) this.removePartition(key, existing); // same name, new topic id: recreated
        const log = this.logs.getOrCreate(topic.name, state.partition, config, now);
        this.partitions.set(
          key,
          new Partition(topic.name, topic.topicId, state.partition, log, state, this.brokerId),
        );
      }
    }
    for (const [key, p] of this.partitions) if (!seen.has(key)) this.removePartition(key, p);
  }

  private removePartition(key: string, p: Partition): void {
    this.partitions.delete(key);
    this.logs.delete(p.topic, p.partition);
    this.log.info({ topic: p.topic, partition: p.partition }, 'removed partition log');
  }
}

/** Topic overrides over broker defaults, as a LogConfig (cleanup policy and compaction included). */
export function logConfigFor(source: EffectiveConfigs, image: MetadataImage, topic: string): LogConfig {
  return logConfigFromTopicConfigs((name) => source.topicConfig(image, topic, name));
}
