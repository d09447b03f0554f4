import type { BrokerEndpoint, ConfigResourceType } from '../records.js';
import { AclsImage } from './AclsImage.js';
import { ClientQuotasImage } from './ClientQuotasImage.js';
import { ScramImage } from './ScramImage.js';

export interface BrokerRegistration {
  readonly brokerId: number;
  readonly incarnationId: string;
  readonly brokerEpoch: number;
  readonly endpoints: readonly BrokerEndpoint[];
  readonly rack: string | null;
  readonly fenced: boolean;
  /** Leadership is moving away before the broker stops; it takes no new leadership or ISR seats. */
  readonly inControlledShutdown: boolean;
  /** Directory ids of its online log dirs. */
  readonly logDirs: readonly string[];
}

export interface PartitionState {
  readonly partition: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly addingReplicas: readonly number[];
  readonly removingReplicas: readonly number[];
  /** Log dir id of each replica, parallel to `replicas` ('' while unknown). */
  readonly directories: readonly string[];
}

export interface TopicImage {
  readonly name: string;
  readonly topicId: string;
  /** Indexed by partition number. */
  readonly partitions: readonly PartitionState[];
}

/**
 * An immutable snapshot of cluster metadata at a log offset. Readers hold on to one image
 * for the duration of a request, so they never see a half-applied change.
 */
export class MetadataImage {
  static readonly EMPTY = new MetadataImage(-1, new Map(), new Map(), new Map(), new Map(), 0);

  constructor(
    /** Offset of the last record applied; -1 for the empty image. */
    readonly offset: number,
    readonly brokers: ReadonlyMap<number, BrokerRegistration>,
    readonly topicsByName: ReadonlyMap<string, TopicImage>,
    readonly topicsById: ReadonlyMap<string, TopicImage>,
    /** `${resourceType}:${resourceName}` → name → value. */
    readonly configs: ReadonlyMap<string, ReadonlyMap<string, string>>,
    readonly nextProducerId: number,
    readonly acls: AclsImage = AclsImage.EMPTY,
    readonly scram: ScramImage = ScramImage.EMPTY,
    readonly clientQuotas: ClientQuotasImage = ClientQuotasImage.EMPTY,
  ) {}

  topic(name: string): TopicImage | undefined {
    return this.topicsByName.get(name);
  }

  partition(topic: string, partition: number): PartitionState | undefined {
    return this.topicsByName.get(topic)?.partitions[partition];
  }

  configsOf(resourceType: ConfigResourceType, resourceName: string): ReadonlyMap<string, string> {
    return this.configs.get(configKey(resourceType, resourceName)) ?? EMPTY_CONFIGS;
  }

  /** Brokers that are registered and not fenced. */
  liveBrokers(): BrokerRegistration[] {
    return [...this.brokers.values()].filter((b) => !b.fenced);
  }

  /**
   * Whether `brokerId`'s replica of a partition may lead or sit in the ISR: its broker is
   * unfenced and not shutting down, and the log dir holding the replica (when known) is online.
   */
  isReplicaEligible(state: PartitionState, brokerId: number): boolean {
    const b = this.brokers.get(brokerId);
    if (!b || b.fenced || b.inControlledShutdown) return false;
    const dir = state.directories[state.replicas.indexOf(brokerId)];
    return !dir || b.logDirs.length === 0 || b.logDirs.includes(dir);
  }
}

const EMPTY_CONFIGS: ReadonlyMap<string, string> = new Map();

export function configKey(resourceType: ConfigResourceType, resourceName: string): string {
  return `${resourceType}:${resourceName}`;
}
