import type {
  EffectiveConfigs,
  MetadataAppendQueue,
  MetadataImage,
  MetadataPublisher,
  QuorumController,
  TopicDefaults,
} from '@fjord/metadata';
import type { Logger } from 'pino';
import type { ResolvedBrokerConfig } from '../config/BrokerConfig.js';
import type { GroupCoordinator } from '../group/GroupCoordinator.js';
import type { TrafficMetrics } from '../metrics/TrafficMetrics.js';
import type { ListenerTlsReloader } from '../network/ListenerTlsReloader.js';
import type { ConnectionInfo, FrameResult } from '../network/RequestContext.js';
import type { ProducerIdAllocator } from '../producer/ProducerIdAllocator.js';
import type { InstanceDiskBudget } from '../quota/InstanceDiskBudget.js';
import type { QuotaManagers } from '../quota/QuotaManagers.js';
import type { TxnMarker } from '../replica/ControlRecords.js';
import type { ReplicaManager } from '../replica/ReplicaManager.js';
import type { Authorizer } from '../security/Authorizer.js';
import type { SaslConfig } from '../security/SaslConfig.js';
import type { ShardPool } from '../shard/ShardPool.js';
import type { LogManager } from '../storage/LogManager.js';
import type { ReadBufferPool } from '../storage/ReadBufferPool.js';
import type { TopicPartition, TransactionCoordinator } from '../transaction/TransactionCoordinator.js';
import type { AutoTopicCreationManager } from './AutoTopicCreationManager.js';
import type { FetchSessionCache } from './FetchSessionCache.js';

/** Everything request handlers may use; built once by the Broker. */
export interface BrokerServices {
  readonly brokerId: number;
  readonly clusterId: string;
  readonly config: ResolvedBrokerConfig;
  readonly configs: EffectiveConfigs;
  readonly metadata: MetadataPublisher;
  /** Appends metadata changes; only the active controller's handlers use it. */
  readonly metadataQueue: MetadataAppendQueue;
  /** The controller logic while this broker is the active controller. */
  activeController(): QuorumController | undefined;
  isActiveController(): boolean;
  /** The active controller's id as far as this broker knows (-1 when unknown). */
  controllerId(): number;
  readonly replicas: ReplicaManager;
  readonly logs: LogManager;
  readonly groups: GroupCoordinator;
  /** The transaction coordinator for the `__transaction_state` partitions this broker leads. */
  readonly transactions: TransactionCoordinator;
  /** The `__consumer_offsets` partition of a group. */
  offsetsPartitionOf(groupId: string): number;
  /** The `__transaction_state` partition of a transactional id. */
  transactionStatePartitionOf(transactionalId: string): number;
  /** Writes a transaction marker into partitions this broker leads; an error code per partition. */
  appendTxnMarkers(marker: TxnMarker, partitions: readonly TopicPartition[]): Promise<number[]>;
  readonly producerIds: ProducerIdAllocator;
  readonly fetchSessions: FetchSessionCache;
  /** Buffers fetches read record data into, given back once their response is written. */
  readonly readBuffers: ReadBufferPool;
  /** Shard threads preparing produce records (num.shard.threads > 0); absent: the event loop does. */
  readonly shards?: ShardPool;
  readonly sasl: SaslConfig;
  /** Reloads TLS listeners' keystores and truststores (dynamic per-broker configs); absent without TLS listeners. */
  readonly listenerTls?: ListenerTlsReloader;
  /** The ACL authorizer; undefined when `authorizer.class.name` is unset (everything allowed). */
  readonly authorizer?: Authorizer;
  /** Client quotas and the instance bandwidth limit. */
  readonly quotas: QuotaManagers;
  /** The instance's disk per broker: produce is refused once it is used up. */
  readonly diskBudget: InstanceDiskBudget;
  readonly topicDefaults: TopicDefaults;
  /** Set when `fjord.metrics.listen` is: what produce, fetch and dispatch count. */
  readonly metrics?: { readonly traffic: TrafficMetrics };
  readonly log: Logger;
  now(): number;
  /** Topics a Metadata request names and may create, created in the background (Kafka's manager). */
  readonly autoTopicCreation: AutoTopicCreationManager;
  /** Creates the topic when missing (internal topics, tests); resolves to the image once it has it. */
  ensureTopic(name: string, partitions?: number, configs?: Record<string, string>): Promise<MetadataImage>;
  /** NONE when this broker coordinates the group, else NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE. */
  coordinatorError(groupId: string): number;
  /** On the controller: waits (bounded) until every live broker has applied the latest metadata. */
  awaitMetadataPropagation(): Promise<void>;
  /** Sends a client's admin request to the active controller in an Envelope; its response frame. */
  forwardToController(connection: ConnectionInfo, frame: Buffer): Promise<FrameResult>;
  /** Answers a request frame through this broker's own handlers (forwarded requests). */
  dispatchLocal(connection: ConnectionInfo, frame: Buffer): Promise<Buffer[] | null>;
  /** The controller saw a heartbeat of `brokerId` on `connection` (to notice when that broker dies). */
  heartbeatSeen(brokerId: number, brokerEpoch: number, connection: ConnectionInfo): void;
}

export interface RequestContext {
  readonly apiKey: number;
  readonly apiVersion: number;
  /** Size of the request frame in bytes (what produce quotas count). */
  readonly requestSize: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly connection: ConnectionInfo;
  readonly broker: BrokerServices;
  /** Set by a handler whose response must be followed by closing the connection. */
  closeAfterResponse?: boolean;
  /** Set by a handler whose client exceeded a quota: the response carries it, the channel is muted for it. */
  throttleTimeMs?: number;
  /** Run once the response has been written to the socket (or dropped): gives back what it lent. */
  onResponseWritten?: (() => void)[];
}
