import type { MetadataLogEntry, MetadataRecord } from '../records.js';
import { AclsDelta } from './AclsImage.js';
import { ClientQuotasDelta } from './ClientQuotasImage.js';
import {
  type BrokerRegistration,
  configKey,
  MetadataImage,
  type PartitionState,
  type TopicImage,
} from './MetadataImage.js';
import { ScramDelta } from './ScramImage.js';

/**
 * Accumulates records on top of a base image and produces the next image. Only the maps a
 * record touches are copied, so replaying a long log stays linear.
 */
export class MetadataDelta {
  private brokers?: Map<number, BrokerRegistration>;
  private topicsByName?: Map<string, TopicImage>;
  private topicsById?: Map<string, TopicImage>;
  private configs?: Map<string, ReadonlyMap<string, string>>;
  private nextProducerId: number;
  private offset: number;
  private acls?: AclsDelta;
  private scram?: ScramDelta;
  private clientQuotas?: ClientQuotasDelta;

  constructor(private readonly base: MetadataImage) {
    this.nextProducerId = base.nextProducerId;
    this.offset = base.offset;
  }

  replay(entry: MetadataLogEntry): void {
    this.apply(entry.record);
    this.offset = entry.offset;
  }

  apply(record: MetadataRecord): void {
    switch (record.type) {
      case 'RegisterBroker': {
        const { type: _type, logDirs, ...registration } = record;
        this.mutableBrokers().set(record.brokerId, {
          ...registration,
          inControlledShutdown: false,
          logDirs: logDirs ?? [],
        });
        break;
      }
      case 'BrokerRegistrationChange': {
        const brokers = this.mutableBrokers();
        const b = brokers.get(record.brokerId);
        if (b && b.brokerEpoch === record.brokerEpoch)
          brokers.set(record.brokerId, {
            ...b,
            fenced: record.fenced ?? b.fenced,
            inControlledShutdown: record.inControlledShutdown ?? b.inControlledShutdown,
            logDirs: record.logDirs ?? b.logDirs,
          });
        break;
      }
      case 'UnregisterBroker':
        this.mutableBrokers().delete(record.brokerId);
        break;
      case 'FenceBroker':
      case 'UnfenceBroker': {
        const brokers = this.mutableBrokers();
        const b = brokers.get(record.brokerId);
        if (b) brokers.set(record.brokerId, { ...b, fenced: record.type === 'FenceBroker' });
        break;
      }
      case 'Topic': {
        const topic: TopicImage = { name: record.name, topicId: record.topicId, partitions: [] };
        this.mutableTopicsByName().set(record.name, topic);
        this.mutableTopicsById().set(record.topicId, topic);
        break;
      }
      case 'Partition': {
        const state: PartitionState = {
          partition: record.partition,
          replicas: record.replicas,
          isr: record.isr,
          leader: record.leader,
          leaderEpoch: record.leaderEpoch,
          partitionEpoch: record.partitionEpoch,
          addingReplicas: record.addingReplicas ?? [],
          removingReplicas: record.removingReplicas ?? [],
          directories: record.directories ?? record.replicas.map(() => ''),
        };
        this.updatePartition(record.topicId, record.partition, () => state);
        break;
      }
      case 'PartitionChange':
        this.updatePartition(record.topicId, record.partition, (old) => {
          if (!old)
            throw new Error(`PartitionChange for unknown partition ${record.topicId}/${record.partition}`);
          const leaderChanged = record.leader !== undefined && record.leader !== old.leader;
          const replicas = record.replicas ?? old.replicas;
          // As in KRaft: a new leader, or replicas leaving the assignment, bumps the leader epoch
          // (so a removed replica's fetches are fenced); every change bumps the partition epoch.
          const replicasRemoved = old.replicas.some((r) => !replicas.includes(r));
          return {
            ...old,
            replicas,
            isr: record.isr ?? old.isr,
            leader: record.leader ?? old.leader,
            leaderEpoch: leaderChanged || replicasRemoved ? old.leaderEpoch + 1 : old.leaderEpoch,
            partitionEpoch: old.partitionEpoch + 1,
            addingReplicas: record.addingReplicas ?? old.addingReplicas,
            removingReplicas: record.removingReplicas ?? old.removingReplicas,
            directories:
              record.directories ??
              (record.replicas
                ? replicas.map((r) => old.directories[old.replicas.indexOf(r)] ?? '')
                : old.directories),
          };
        });
        break;
      case 'RemoveTopic': {
        const topic = this.currentTopicById(record.topicId);
        if (!topic) break;
        this.mutableTopicsById().delete(record.topicId);
        this.mutableTopicsByName().delete(topic.name);
        this.mutableConfigs().delete(configKey('topic', topic.name));
        break;
      }
      case 'Config': {
        const configs = this.mutableConfigs();
        const k = configKey(record.resourceType, record.resourceName);
        const next = new Map(configs.get(k) ?? []);
        if (record.value === null) next.delete(record.name);
        else next.set(record.name, record.value);
        if (next.size === 0) configs.delete(k);
        else configs.set(k, next);
        break;
      }
      case 'ProducerIds':
        this.nextProducerId = Math.max(this.nextProducerId, record.nextProducerId);
        break;
      case 'AccessControlEntry':
      case 'RemoveAccessControlEntry':
        this.acls ??= new AclsDelta(this.base.acls);
        this.acls.replay(record);
        break;
      case 'UserScramCredential':
      case 'RemoveUserScramCredential':
        this.scram ??= new ScramDelta(this.base.scram);
        this.scram.replay(record);
        break;
      case 'ClientQuota':
        this.clientQuotas ??= new ClientQuotasDelta(this.base.clientQuotas);
        this.clientQuotas.replay(record);
        break;
    }
  }

  /** The resulting image; `offset` overrides the last replayed offset (snapshot loading). */
  image(offset = this.offset): MetadataImage {
    return new MetadataImage(
      offset,
      this.brokers ?? this.base.brokers,
      this.topicsByName ?? this.base.topicsByName,
      this.topicsById ?? this.base.topicsById,
      this.configs ?? this.base.configs,
      this.nextProducerId,
      this.acls?.image() ?? this.base.acls,
      this.scram?.image() ?? this.base.scram,
      this.clientQuotas?.image() ?? this.base.clientQuotas,
    );
  }

  private currentTopicById(topicId: string): TopicImage | undefined {
    return (this.topicsById ?? this.base.topicsById).get(topicId);
  }

  private updatePartition(
    topicId: string,
    partition: number,
    change: (old: PartitionState | undefined) => PartitionState,
  ): void {
    const topic = this.currentTopicById(topicId);
    if (!topic) throw new Error(`partition record for unknown topic id ${topicId}`);
    const partitions = topic.partitions.slice();
    partitions[partition] = change(topic.partitions[partition]);
    const next: TopicImage = { ...topic, partitions };
    this.mutableTopicsById().set(topicId, next);
    this.mutableTopicsByName().set(topic.name, next);
  }

  private mutableBrokers(): Map<number, BrokerRegistration> {
    this.brokers ??= new Map(this.base.brokers);
    return this.brokers;
  }
  private mutableTopicsByName(): Map<string, TopicImage> {
    this.topicsByName ??= new Map(this.base.topicsByName);
    return this.topicsByName;
  }
  private mutableTopicsById(): Map<string, TopicImage> {
    this.topicsById ??= new Map(this.base.topicsById);
    return this.topicsById;
  }
  private mutableConfigs(): Map<string, ReadonlyMap<string, string>> {
    this.configs ??= new Map(this.base.configs);
    return this.configs;
  }
}

/** The image a snapshot holds: its records applied to the empty image, at the snapshot's offset. */
export function imageFromSnapshot(snapshot: {
  offset: number;
  records: readonly MetadataRecord[];
}): MetadataImage {
  const delta = new MetadataDelta(MetadataImage.EMPTY);
  for (const r of snapshot.records) delta.apply(r);
  return delta.image(snapshot.offset);
}

/** Replays entries onto an image. */
export function replay(base: MetadataImage, entries: Iterable<MetadataLogEntry>): MetadataImage {
  const delta = new MetadataDelta(base);
  for (const e of entries) delta.replay(e);
  return delta.image();
}
