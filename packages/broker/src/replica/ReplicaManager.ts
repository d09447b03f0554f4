import {
  dynamicInstanceValue,
  type EffectiveConfigs,
  FOLLOWER_THROTTLE_RATE_KEY,
  FOLLOWER_THROTTLED_REPLICAS_KEY,
  LEADER_THROTTLE_RATE_KEY,
  LEADER_THROTTLED_REPLICAS_KEY,
  MetadataImage,
  throttledPartitionsOn,
} from '@fjord/metadata';
import { ErrorCode } from '@fjord/protocol';
import type { Logger } from 'pino';
import type { BrokerClient } from '../network/BrokerClient.js';
import { ReplicationQuota } from '../quota/ReplicationQuota.js';
import type { RateWindow } from '../quota/SampledRate.js';
import { type LogConfig, logConfigFromTopicConfigs } from '../storage/LogConfig.js';
import type { LogManager } from '../storage/LogManager.js';
import type { AlterPartitionManager } from './AlterPartitionManager.js';
import type { DirectoryAssignmentManager } from './DirectoryAssignmentManager.js';
import { type IsrChangeCounts, Partition, type ReplicaContext } from './Partition.js';
import { ReplicaFetcher, type ReplicaFetcherSettings } from './ReplicaFetcher.js';

/** Broker-level log defaults by Kafka broker key (after resolution of ms/hours synonyms). */
export type BrokerLogDefaults = ReadonlyMap<string, unknown>;

export interface ReplicaManagerSettings {
  readonly brokerId: number;
  /** replica.lag.time.max.ms */
  readonly replicaLagTimeMaxMs: number;
  readonly fetcher: ReplicaFetcherSettings;
  /** A connection to a leader's inter-broker listener, for its fetcher. */
  readonly connectTo: (leaderId: number) => BrokerClient;
  /** The window replication throttles are measured over (replication.quota.window.*). */
  readonly replicationQuotaWindow: RateWindow;
}

type ThrottleSide = typeof LEADER_THROTTLED_REPLICAS_KEY | typeof FOLLOWER_THROTTLED_REPLICAS_KEY;

/** A hosted partition gained or lost leadership (the group coordinator loads or unloads groups). */
export type LeadershipListener = (p: Partition, isLeader: boolean) => void;

/**
 * The partitions this broker hosts. Follows the metadata image: creates logs for new replicas,
 * makes replicas leaders or followers (followers fetch from their leader through one fetcher
 * per leader broker), deletes logs of removed replicas, and carries the ISR changes leaders
 * propose to the controller. Produce and fetch go through here.
 */
export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private readonly leadershipListeners: LeadershipListener[] = [];
  private image = MetadataImage.EMPTY;
  /** Set once the controller channel exists; until then ISRs never change. */
  alterPartitions: AlterPartitionManager | undefined;
  /** Set once the controller channel exists: reports which log dir holds each replica. */
  directoryAssignments: DirectoryAssignmentManager | undefined;
  private readonly context: ReplicaContext;
  /** ISR shrinks and expands committed while this broker led the partition (metrics read them). */
  readonly isrChanges: IsrChangeCounts = { shrinks: 0, expands: 0 };
  /** Called with the bytes each follower fetch appended (replication bytes-in metrics). */
  onReplicatedBytes: ((topic: string, bytes: number) => void) | undefined;
  private readonly leaderQuota: ReplicationQuota;
  private readonly followerQuota: ReplicationQuota;
  /** Per image: each topic's throttled partitions on this broker, by side (parsed once). */
  private throttled = new Map<string, 'all' | ReadonlySet<number>>();

  constructor(
    private readonly logs: LogManager,
    private readonly configSource: EffectiveConfigs,
    private readonly log: Logger,
    private readonly settings: ReplicaManagerSettings,
  ) {
    this.context = {
      brokerId: settings.brokerId,
      replicaLagTimeMaxMs: settings.replicaLagTimeMaxMs,
      eligible: (state, brokerId) => this.image.isReplicaEligible(state, brokerId),
      isrChanges: this.isrChanges,
    };
    this.leaderQuota = new ReplicationQuota(settings.replicationQuotaWindow);
    this.followerQuota = new ReplicationQuota(settings.replicationQuotaWindow);
    logs.onDirOffline((event) => {
      for (const tp of event.partitions) {
        const p = this.get(tp.topic, tp.partition);
        if (!p) continue;
        p.offline = true;
        this.stopFetching(p);
      }
      this.log.error(
        { dir: event.dir, partitions: event.partitions.length, err: event.error },
        'log dir offline',
      );
    });
  }

  get brokerId(): number {
    return this.settings.brokerId;
  }

  get(topic: string, partition: number): Partition | undefined {
    return this.partitions.get(`${topic}\u0000${partition}`);
  }

  onLeadershipChange(listener: LeadershipListener): void {
    this.leadershipListeners.push(listener);
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
    this.image = image;
    this.throttled = new Map();
    const seen = new Set<string>();
    const leadershipChanges: [Partition, boolean][] = [];
    for (const topic of image.topicsByName.values()) {
      const config = logConfigFor(this.configSource, image, topic.name);
      for (const state of topic.partitions) {
        if (!state?.replicas.includes(this.brokerId)) continue;
        const key = `${topic.name}\u0000${state.partition}`;
        seen.add(key);
        let p = this.partitions.get(key);
        if (p && p.topicId !== topic.topicId) {
          this.removePartition(key, p); // same name, new topic id: recreated
          p = undefined;
        }
        if (p) {
          p.log.config = config;
          const wasLeader = p.isLeader;
          p.applyState(state, now);
          if (wasLeader !== p.isLeader) leadershipChanges.push([p, p.isLeader]);
        } else {
          const log = this.logs.getOrCreate(topic.name, state.partition, config, now);
          p = new Partition(topic.name, topic.topicId, state.partition, log, state, this.context, now);
          this.partitions.set(key, p);
          if (p.isLeader) leadershipChanges.push([p, true]);
        }
        this.placeFetcher(p);
        this.reportDirectory(p);
      }
    }
    for (const [key, p] of this.partitions)
      if (!seen.has(key)) {
        if (p.isLeader) leadershipChanges.push([p, false]);
        this.removePartition(key, p);
      }
    for (const [leader, f] of this.fetchers)
      if (f.size === 0) {
        this.fetchers.delete(leader);
        void f.stop();
      }
    for (const [p, isLeader] of leadershipChanges) for (const l of this.leadershipListeners) l(p, isLeader);
  }

  /**
   * Moves a hosted replica to another of this broker's log dirs and tells the controller where it
   * is now. Undefined when this broker does not host it.
   */
  async moveReplica(
    topic: string,
    partition: number,
    dir: string,
    now: number,
  ): Promise<Partition | undefined> {
    const p = this.get(topic, partition);
    if (!p) return undefined;
    p.replaceLog(await this.logs.move(topic, partition, dir, now));
    this.reportDirectory(p);
    return p;
  }

  /** A follower fetched: update what we know of it, and let it join the ISR once caught up. */
  recordFollowerFetch(p: Partition, replicaId: number, fetchOffset: number, now: number): void {
    p.recordFollowerFetch(replicaId, fetchOffset, now);
    this.maybeProposeIsr(p, now);
  }

  /**
   * Leader side of the replication throttle: a fetch by a follower outside the ISR gets no data
   * for a throttled replica while the leader's replication rate is above
   * `leader.replication.throttled.rate` (Kafka's shouldLeaderThrottle).
   */
  leaderHoldsBack(p: Partition, replicaId: number, now: number): boolean {
    if (p.isr().includes(replicaId) || !this.isThrottled(p, LEADER_THROTTLED_REPLICAS_KEY)) return false;
    return this.leaderQuota.exceeded(this.throttleRate(LEADER_THROTTLE_RATE_KEY), now);
  }

  /** Bytes a leader sent a follower: counted against the leader quota when the replica is throttled. */
  recordLeaderReplication(p: Partition, bytes: number, now: number): void {
    if (bytes > 0 && this.isThrottled(p, LEADER_THROTTLED_REPLICAS_KEY)) this.leaderQuota.record(bytes, now);
  }

  /** Follower side: a throttled replica outside the ISR is left out of fetches while over the rate. */
  private followerHoldsBack(p: Partition, now: number): boolean {
    if (p.isr().includes(this.brokerId) || !this.isThrottled(p, FOLLOWER_THROTTLED_REPLICAS_KEY))
      return false;
    return this.followerQuota.exceeded(this.throttleRate(FOLLOWER_THROTTLE_RATE_KEY), now);
  }

  private recordFollowerReplication(p: Partition, bytes: number, now: number): void {
    this.onReplicatedBytes?.(p.topic, bytes);
    if (this.isThrottled(p, FOLLOWER_THROTTLED_REPLICAS_KEY)) this.followerQuota.record(bytes, now);
  }

  private isThrottled(p: Partition, side: ThrottleSide): boolean {
    const key = `${side}\u0000${p.topic}`;
    let partitions = this.throttled.get(key);
    if (!partitions) {
      partitions = throttledPartitionsOn(
        this.configSource.topicConfig(this.image, p.topic, side),
        this.brokerId,
      );
      this.throttled.set(key, partitions);
    }
    return partitions === 'all' || partitions.has(p.partition);
  }

  private throttleRate(key: string): number {
    return dynamicInstanceValue(this.image, this.brokerId, key) ?? Number.MAX_SAFE_INTEGER;
  }

  /** replica.lag.time.max.ms's check: leaders drop followers that fell behind. */
  checkIsrs(now: number): void {
    for (const p of this.partitions.values()) if (p.isLeader) this.maybeProposeIsr(p, now);
  }

  /** Kafka's PeriodicProducerExpirationCheck over every partition here. Returns how many went. */
  expireProducers(now: number, expirationMs: number): number {
    let removed = 0;
    for (const p of this.partitions.values()) removed += p.expireProducers(now, expirationMs);
    return removed;
  }

  private maybeProposeIsr(p: Partition, now: number): void {
    if (!this.alterPartitions) return;
    const isr = p.proposeIsr(now);
    if (!isr) return;
    this.log.info({ topic: p.topic, partition: p.partition, from: p.isr(), to: isr }, 'proposing ISR change');
    this.alterPartitions.submit(p, isr);
  }

  private reportDirectory(p: Partition): void {
    if (!this.directoryAssignments || p.offline) return;
    const dir = this.logs.dirOf(p.topic, p.partition);
    const id = dir === undefined ? undefined : this.logs.directoryId(dir);
    if (!id) return;
    const known = p.state.directories[p.state.replicas.indexOf(this.brokerId)] ?? '';
    this.directoryAssignments.ensure(p.topicId, p.partition, id, known);
  }

  /** Followers fetch from their leader; leaders, leaderless and offline replicas do not. */
  private placeFetcher(p: Partition): void {
    const leader = p.state.leader;
    const wanted = !p.isLeader && !p.offline && leader >= 0 ? leader : undefined;
    for (const [id, f] of this.fetchers) if (id !== wanted && f.has(p)) f.remove(p);
    if (wanted === undefined) return;
    let fetcher = this.fetchers.get(wanted);
    if (!fetcher) {
      fetcher = new ReplicaFetcher(wanted, this.settings.connectTo(wanted), this.settings.fetcher, this.log, {
        holdsBack: (p, now) => this.followerHoldsBack(p, now),
        replicated: (p, bytes, now) => this.recordFollowerReplication(p, bytes, now),
      });
      this.fetchers.set(wanted, fetcher);
    }
    if (!fetcher.has(p)) fetcher.add(p);
  }

  private stopFetching(p: Partition): void {
    for (const f of this.fetchers.values()) if (f.has(p)) f.remove(p);
  }

  private removePartition(key: string, p: Partition): void {
    this.stopFetching(p);
    this.partitions.delete(key);
    this.logs.delete(p.topic, p.partition);
    this.log.info({ topic: p.topic, partition: p.partition }, 'removed partition log');
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.fetchers.values()].map((f) => f.stop()));
    this.fetchers.clear();
  }
}

/** Topic overrides over broker defaults, as a LogConfig (cleanup policy and compaction included). */
export function logConfigFor(source: EffectiveConfigs, image: MetadataImage, topic: string): LogConfig {
  return logConfigFromTopicConfigs((name) => source.topicConfig(image, topic, name));
}
