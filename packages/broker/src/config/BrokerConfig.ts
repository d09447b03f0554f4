import {
  atLeast,
  between,
  ConfigError,
  type ConfigKeyDef,
  type ConfigValue,
  DEFAULT_DISK_HIGH_WATER_RATIO,
  DEFAULT_MESSAGE_FORMAT_VERSION,
  DYNAMIC_BROKER_KEY_DEFS,
  defaultMessageFormatVersion,
  defaultMessageMaxBytes,
  parseConfigValue,
  validateMetadataVersion,
} from '@fjord/metadata';
import { parseProperties } from './PropertiesFile.js';

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

export interface ListenerConfig {
  /** Listener name, e.g. PLAINTEXT, INTERNAL, PUBLIC. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly securityProtocol: SecurityProtocol;
}

const HOUR_MS = 3_600_000;
const CLUSTERED_DEFAULT_REPLICATION_FACTOR = 2;
const LONG_MAX = Number.MAX_SAFE_INTEGER;

function key(name: string, type: ConfigKeyDef['type'], dflt: ConfigValue, extra: Partial<ConfigKeyDef> = {}) {
  return { name, type, default: dflt, ...extra } satisfies ConfigKeyDef;
}

/** Broker configuration keys Fjord implements, with Kafka's names and defaults. */
export const BROKER_CONFIG_DEFS: readonly ConfigKeyDef[] = [
  key('node.id', 'int', 1, { validate: atLeast(0) }),
  key('broker.id', 'int', null),
  key('cluster.id', 'string', null),
  key('listeners', 'list', ['PLAINTEXT://127.0.0.1:9092']),
  key('advertised.listeners', 'list', null),
  key('listener.security.protocol.map', 'list', [
    'PLAINTEXT:PLAINTEXT',
    'SSL:SSL',
    'SASL_PLAINTEXT:SASL_PLAINTEXT',
    'SASL_SSL:SASL_SSL',
  ]),
  key('inter.broker.listener.name', 'string', null),
  key('broker.rack', 'string', null),
  key('log.dirs', 'list', null),
  key('log.dir', 'string', './.data'),
  key('num.partitions', 'int', 1, { validate: atLeast(1) }),
  key('default.replication.factor', 'int', 1, { validate: atLeast(1) }),
  key('auto.create.topics.enable', 'boolean', true),
  key('delete.topic.enable', 'boolean', true),
  key('log.retention.hours', 'int', 168),
  key('log.retention.minutes', 'int', null),
  key('log.retention.ms', 'long', null),
  key('log.retention.bytes', 'long', -1),
  key('log.retention.check.interval.ms', 'long', 300_000, { validate: atLeast(1) }),
  key('log.segment.bytes', 'int', 1_073_741_824, { validate: atLeast(14) }),
  key('log.roll.hours', 'int', 168, { validate: atLeast(1) }),
  key('log.roll.ms', 'long', null),
  key('log.roll.jitter.hours', 'int', 0, { validate: atLeast(0) }),
  key('log.roll.jitter.ms', 'long', null),
  key('log.index.interval.bytes', 'int', 4096, { validate: atLeast(0) }),
  key('log.index.size.max.bytes', 'int', 10_485_760, { validate: atLeast(4) }),
  key('log.segment.delete.delay.ms', 'long', 60_000, { validate: atLeast(0) }),
  key('log.cleanup.policy', 'list', ['delete'], { validValues: ['delete', 'compact'] }),
  key('log.cleaner.enable', 'boolean', true),
  key('log.cleaner.delete.retention.ms', 'long', 86_400_000),
  key('log.cleaner.min.cleanable.ratio', 'double', 0.5),
  key('log.cleaner.min.compaction.lag.ms', 'long', 0),
  key('log.cleaner.max.compaction.lag.ms', 'long', LONG_MAX),
  key('log.flush.interval.messages', 'long', LONG_MAX, { validate: atLeast(1) }),
  key('log.flush.interval.ms', 'long', null),
  key('log.flush.scheduler.interval.ms', 'long', LONG_MAX),
  key('log.message.timestamp.type', 'string', 'CreateTime', { validValues: ['CreateTime', 'LogAppendTime'] }),
  key('log.message.timestamp.difference.max.ms', 'long', LONG_MAX),
  key('log.message.timestamp.before.max.ms', 'long', LONG_MAX, { validate: atLeast(0) }),
  key('log.message.timestamp.after.max.ms', 'long', LONG_MAX, { validate: atLeast(0) }),
  // Deprecated and ignored, as in Kafka 3.x; kept so server.properties that set it still load.
  key('log.message.format.version', 'string', DEFAULT_MESSAGE_FORMAT_VERSION, {
    validate: validateMetadataVersion,
  }),
  key('log.local.retention.ms', 'long', -2, { validate: atLeast(-2) }),
  key('log.local.retention.bytes', 'long', -2, { validate: atLeast(-2) }),
  key('log.message.downconversion.enable', 'boolean', true),
  key('log.preallocate', 'boolean', false),
  key('compression.gzip.level', 'int', -1),
  key('compression.lz4.level', 'int', 9),
  key('compression.zstd.level', 'int', 3),
  key('compression.type', 'string', 'producer', {
    validValues: ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'],
  }),
  key('message.max.bytes', 'int', 1_048_588, { validate: atLeast(0) }),
  key('min.insync.replicas', 'int', 1, { validate: atLeast(1) }),
  key('unclean.leader.election.enable', 'boolean', false),
  key('socket.request.max.bytes', 'int', 104_857_600, { validate: atLeast(1) }),
  key('connections.max.idle.ms', 'long', 600_000),
  key('queued.max.requests', 'int', 500, { validate: atLeast(1) }),
  key('queued.max.request.bytes', 'long', -1),
  // Shard threads for produce record preparation (docs/adr/0023); 0: all on the event loop.
  key('num.shard.threads', 'int', 0, { validate: between(0, 1024) }),
  key('offsets.topic.num.partitions', 'int', 50, { validate: atLeast(1) }),
  key('offsets.topic.replication.factor', 'int', 3, { validate: atLeast(1) }),
  key('offsets.topic.segment.bytes', 'int', 104_857_600, { validate: atLeast(1) }),
  key('offsets.retention.minutes', 'int', 10_080, { validate: atLeast(1) }),
  key('offset.metadata.max.bytes', 'int', 4096),
  key('offsets.commit.timeout.ms', 'int', 5000, { validate: atLeast(1) }),
  key('group.initial.rebalance.delay.ms', 'int', 3000, { validate: atLeast(0) }),
  key('group.min.session.timeout.ms', 'int', 6000),
  key('group.max.session.timeout.ms', 'int', 1_800_000),
  key('group.max.size', 'int', 2_147_483_647, { validate: atLeast(1) }),
  key('replica.lag.time.max.ms', 'long', 30_000, { validate: atLeast(1) }),
  key('replica.fetch.wait.max.ms', 'int', 500, { validate: atLeast(0) }),
  key('replica.fetch.min.bytes', 'int', 1, { validate: atLeast(1) }),
  key('replica.fetch.max.bytes', 'int', 1_048_576, { validate: atLeast(0) }),
  key('replica.fetch.response.max.bytes', 'int', 10_485_760, { validate: atLeast(0) }),
  key('replica.fetch.backoff.ms', 'int', 1000, { validate: atLeast(0) }),
  key('replica.socket.timeout.ms', 'int', 30_000, { validate: atLeast(1) }),
  key('replica.high.watermark.checkpoint.interval.ms', 'long', 5000, { validate: atLeast(1) }),
  key('broker.heartbeat.interval.ms', 'int', 500, { validate: atLeast(1) }),
  key('broker.session.timeout.ms', 'int', 9000, { validate: atLeast(1) }),
  key('controlled.shutdown.enable', 'boolean', true),
  key('auto.leader.rebalance.enable', 'boolean', true),
  key('leader.imbalance.per.broker.percentage', 'int', 10, { validate: atLeast(0) }),
  key('leader.imbalance.check.interval.seconds', 'long', 300, { validate: atLeast(1) }),
  // Clustered mode: the metadata log and controller lease live in this PostgreSQL database.
  key('fjord.metadata.database.url', 'string', null),
  key('fjord.controller.lease.ms', 'int', 2000, { validate: atLeast(100) }),
  key('fjord.metadata.snapshot.interval.records', 'int', 20_000, { validate: atLeast(1) }),
  key('fjord.controller.lease.renew.ms', 'int', 400, { validate: atLeast(10) }),
  key('fjord.controlled.shutdown.timeout.ms', 'int', 30_000, { validate: atLeast(0) }),
  key('max.incremental.fetch.session.cache.slots', 'int', 1000, { validate: atLeast(0) }),
  key('transactional.id.expiration.ms', 'int', 604_800_000, { validate: atLeast(1) }),
  // How often producer state is checked for producer.id.expiration.ms (a dynamic broker config).
  key('producer.id.expiration.check.interval.ms', 'int', 600_000, { validate: atLeast(1) }),
  key('transaction.state.log.num.partitions', 'int', 50, { validate: atLeast(1) }),
  key('transaction.state.log.replication.factor', 'int', 3, { validate: atLeast(1) }),
  key('transaction.state.log.min.isr', 'int', 2, { validate: atLeast(1) }),
  key('transaction.state.log.segment.bytes', 'int', 104_857_600, { validate: atLeast(1) }),
  key('transaction.max.timeout.ms', 'int', 900_000, { validate: atLeast(1) }),
  key('transaction.abort.timed.out.transaction.cleanup.interval.ms', 'int', 10_000, {
    validate: atLeast(1),
  }),
  key('transaction.remove.expired.transaction.cleanup.interval.ms', 'int', 3_600_000, {
    validate: atLeast(1),
  }),
  key('fjord.kafka.version', 'string', '3.8'),
  // The product's cap (@fjord/contracts' MAX_REPLICATION_FACTOR) arrives here from whoever starts
  // the broker; the library itself keeps Kafka's lack of one (int16 replication factors).
  key('fjord.max.replication.factor', 'int', 32_767, { validate: atLeast(1) }),
  // The instance's partition limit (the product's spec), enforced by the controller for every
  // client; 0 means none.
  key('fjord.instance.partition.limit', 'int', 0, { validate: atLeast(0) }),
  // The instance's disk per broker (the product's spec): partition data past the high-water
  // share of it is trimmed, oldest segments first; at all of it produce is refused. 0: no budget.
  key('fjord.instance.disk.bytes', 'long', 0, { validate: atLeast(0) }),
  key('fjord.instance.disk.high.water.ratio', 'double', DEFAULT_DISK_HIGH_WATER_RATIO, {
    validate: (v) => ((v as number) > 0 && (v as number) <= 1 ? undefined : 'must be above 0 and at most 1'),
  }),
  key('fjord.instance.disk.check.interval.ms', 'int', 1000, { validate: atLeast(10) }),
  // Data-plane security and quotas; listener-prefixed and ssl.* keys are read by security/.
  key('authorizer.class.name', 'string', ''),
  key('super.users', 'string', null),
  key('allow.everyone.if.no.acl.found', 'boolean', false),
  key('connections.max.reauth.ms', 'long', 0, { validate: atLeast(0) }),
  key('sasl.server.max.receive.size', 'int', 524_288, { validate: atLeast(1) }),
  // Kafka's reconfigurable broker keys (AlterConfigs on a BROKER resource may change them later).
  ...DYNAMIC_BROKER_KEY_DEFS.map((d) => d.def),
  key('quota.window.num', 'int', 11, { validate: atLeast(1) }),
  key('quota.window.size.seconds', 'int', 1, { validate: atLeast(1) }),
  key('fjord.instance.bandwidth.bytes.per.second', 'long', null, {
    validate: (v) => (v === null || (v as number) > 0 ? undefined : 'must be positive'),
  }),
  // Prometheus /metrics over HTTP on HOST:PORT (port 0: any free port); off when unset.
  key('fjord.metrics.listen', 'string', null, {
    validate: (v) => (v === null || parseHostPort(v as string) ? undefined : `'${v}' is not HOST:PORT`),
  }),
  // Per-partition series (log offsets and sizes, group lag) beyond this many are left out; 0: none.
  key('fjord.metrics.partition.series.max', 'int', 2000, { validate: atLeast(0) }),
];

/** `host:port` or `[v6]:port` with a port in 0..65535; undefined when malformed. */
export function parseHostPort(value: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(value.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * Keys of a stock Kafka server.properties that have no meaning for Fjord (threads, ZooKeeper,
 * KRaft quorum wiring). Accepted quietly so an existing file works unchanged.
 */
const ACCEPTED_WITHOUT_EFFECT = new Set([
  'num.network.threads',
  'num.io.threads',
  'socket.send.buffer.bytes',
  'socket.receive.buffer.bytes',
  'num.recovery.threads.per.data.dir',
  'zookeeper.connect',
  'zookeeper.connection.timeout.ms',
  'process.roles',
  'controller.quorum.voters',
  'controller.quorum.bootstrap.servers',
  'controller.listener.names',
  'num.replica.fetchers',
  'log.cleaner.threads',
]);

export const BROKER_CONFIG_BY_NAME: ReadonlyMap<string, ConfigKeyDef> = new Map(
  BROKER_CONFIG_DEFS.map((d) => [d.name, d]),
);

/**
 * The broker config definitions as a broker emulating `kafkaVersion` has them: Kafka's defaults,
 * with `log.message.format.version`'s following the release (DescribeConfigs lists defaults).
 */
export function brokerConfigDefsFor(kafkaVersion: string): ReadonlyMap<string, ConfigKeyDef> {
  const defs = new Map(BROKER_CONFIG_BY_NAME);
  const format = defs.get('log.message.format.version')!;
  defs.set(format.name, { ...format, default: defaultMessageFormatVersion(kafkaVersion) });
  const maxBytes = defs.get('message.max.bytes')!;
  defs.set(maxBytes.name, { ...maxBytes, default: defaultMessageMaxBytes(kafkaVersion) });
  return defs;
}

export interface BrokerConfigSource {
  /** Contents of a server.properties file. */
  readonly propertiesText?: string;
  /** Individual overrides, applied after the file (`--override key=value`). */
  readonly overrides?: ReadonlyMap<string, string>;
  /** SCRAM users to bootstrap (`--add-scram 'SCRAM-SHA-256=[name=alice,password=...]'`). */
  readonly scramUsers?: readonly string[];
}

/** replica.* keys: follower fetching and ISR membership. */
export interface ReplicaSettings {
  readonly lagTimeMaxMs: number;
  readonly fetchWaitMaxMs: number;
  readonly fetchMinBytes: number;
  readonly fetchResponseMaxBytes: number;
  readonly fetchMaxBytes: number;
  readonly fetchBackoffMs: number;
  readonly socketTimeoutMs: number;
  readonly highWatermarkCheckpointIntervalMs: number;
}

/** The controller quorum: broker sessions, leader balance, the lease, controlled shutdown. */
export interface QuorumSettings {
  readonly brokerSessionTimeoutMs: number;
  readonly brokerHeartbeatIntervalMs: number;
  readonly leaderImbalancePerBrokerPercentage: number;
  readonly leaderImbalanceCheckIntervalSeconds: number;
  readonly autoLeaderRebalanceEnable: boolean;
  readonly metadataSnapshotIntervalRecords: number;
  readonly controllerLeaseMs: number;
  readonly controllerLeaseRenewMs: number;
  readonly controlledShutdownEnable: boolean;
  readonly controlledShutdownTimeoutMs: number;
}

/** The group coordinator and `__consumer_offsets`. */
export interface GroupSettings {
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  readonly maxSize: number;
  readonly offsetMetadataMaxBytes: number;
  readonly offsetsCommitTimeoutMs: number;
  readonly offsetsRetentionMinutes: number;
  readonly offsetsTopicReplicationFactor: number;
}

/** The transaction coordinator and its `__transaction_state` topic (Kafka's transaction.* keys). */
export interface TransactionSettings {
  readonly stateLogPartitions: number;
  readonly stateLogReplicationFactor: number;
  readonly stateLogMinIsr: number;
  readonly stateLogSegmentBytes: number;
  /** The largest transaction.timeout.ms a producer may ask for. */
  readonly maxTimeoutMs: number;
  readonly abortTimedOutIntervalMs: number;
  readonly transactionalIdExpirationMs: number;
  readonly removeExpiredIntervalMs: number;
  /** How often idle producers' state is dropped (Kafka's PeriodicProducerExpirationCheck). */
  readonly producerIdExpirationCheckIntervalMs: number;
  /** producer.id.expiration.ms as configured at start; a dynamic broker config overrides it. */
  readonly producerIdExpirationMs: number;
}

/** Connections, quotas and fetch sessions. */
export interface NetworkSettings {
  readonly connectionsMaxIdleMs: number;
  /** Requests received and not yet answered, broker-wide, before connections stop being read. */
  readonly queuedMaxRequests: number;
  /** The request memory pool's size in bytes; <= 0: unbounded. */
  readonly queuedMaxRequestBytes: number;
  /** num.shard.threads: produce records prepared on this many shard threads; 0: on the event loop. */
  readonly shardThreads: number;
  readonly connectionsMaxReauthMs: number;
  readonly saslServerMaxReceiveSize: number;
  readonly maxIncrementalFetchSessionCacheSlots: number;
  readonly quotaWindowNum: number;
  readonly quotaWindowSizeSeconds: number;
  /** fjord.instance.bandwidth.bytes.per.second; null: no instance-wide cap. */
  readonly instanceBandwidthBytesPerSecond: number | null;
}

/** The instance's disk budget as configured at start (dynamic broker configs override both values). */
export interface DiskBudgetSettings {
  /** fjord.instance.disk.bytes; 0: no budget. */
  readonly budgetBytes: number;
  /** fjord.instance.disk.high.water.ratio */
  readonly highWaterRatio: number;
  /** fjord.instance.disk.check.interval.ms: how often usage is compared with the high-water mark. */
  readonly checkIntervalMs: number;
}

/** Background log maintenance. */
export interface LogMaintenanceSettings {
  readonly retentionCheckIntervalMs: number;
  readonly cleanerEnable: boolean;
  readonly cleanerBackoffMs: number;
}

export interface ResolvedBrokerConfig {
  readonly nodeId: number;
  readonly clusterId: string | null;
  readonly listeners: readonly ListenerConfig[];
  readonly advertisedListeners: readonly ListenerConfig[];
  /** The listener brokers use among themselves (replication, the controller). */
  readonly interBrokerListener: string;
  /** PostgreSQL URL of the cluster metadata (clustered mode); null for a standalone broker. */
  readonly metadataDatabaseUrl: string | null;
  readonly rack: string | null;
  readonly logDirs: readonly string[];
  readonly numPartitions: number;
  readonly defaultReplicationFactor: number;
  readonly autoCreateTopics: boolean;
  readonly messageMaxBytes: number;
  readonly socketRequestMaxBytes: number;
  readonly offsetsTopicPartitions: number;
  readonly groupInitialRebalanceDelayMs: number;
  readonly logRetentionMs: number;
  readonly logRollMs: number;
  readonly logFlushIntervalMs: number;
  readonly kafkaVersion: string;
  /** fjord.max.replication.factor: the largest replication factor topics may have. */
  readonly maxReplicationFactor: number;
  /** fjord.instance.partition.limit: partitions all user topics may have together (0: no limit). */
  readonly partitionLimit: number;
  // Typed views of the keys the broker's components are built from (same values as `values`).
  readonly replica: ReplicaSettings;
  readonly quorum: QuorumSettings;
  readonly groups: GroupSettings;
  readonly transactions: TransactionSettings;
  readonly network: NetworkSettings;
  readonly logMaintenance: LogMaintenanceSettings;
  readonly disk: DiskBudgetSettings;
  /** Every broker key's effective value (explicit or default), for DescribeConfigs. */
  readonly values: ReadonlyMap<string, ConfigValue>;
  /** Keys set explicitly (file or override). */
  readonly explicit: ReadonlySet<string>;
  /** Unknown keys (warned about, not fatal), and keys with no effect. */
  readonly unknownKeys: readonly string[];
  readonly ignoredKeys: readonly string[];
  /** Raw values of keys the broker does not model (e.g. listener-prefixed SASL settings). */
  readonly passthrough: ReadonlyMap<string, string>;
  readonly scramUsers: readonly string[];
}

/** Prefixes whose keys are read by subsystems that parse them themselves (SASL, SSL, ACLs). */
const PASSTHROUGH_PREFIXES = [
  'listener.name.',
  'sasl.',
  'ssl.',
  'super.users',
  'authorizer.',
  'allow.everyone',
];

export function resolveBrokerConfig(source: BrokerConfigSource): ResolvedBrokerConfig {
  const raw = new Map<string, string>(source.propertiesText ? parseProperties(source.propertiesText) : []);
  for (const [k, v] of source.overrides ?? []) raw.set(k, v);

  const values = new Map<string, ConfigValue>();
  const explicit = new Set<string>();
  const unknownKeys: string[] = [];
  const ignoredKeys: string[] = [];
  const passthrough = new Map<string, string>();
  for (const d of BROKER_CONFIG_DEFS) values.set(d.name, d.default);
  for (const [k, v] of raw) {
    const d = BROKER_CONFIG_BY_NAME.get(k);
    if (d) {
      values.set(k, parseConfigValue(d, v));
      explicit.add(k);
    } else if (ACCEPTED_WITHOUT_EFFECT.has(k)) ignoredKeys.push(k);
    else if (PASSTHROUGH_PREFIXES.some((p) => k.startsWith(p))) passthrough.set(k, v);
    else unknownKeys.push(k);
  }

  const int = (k: string) => values.get(k) as number;
  const maybe = (k: string) => values.get(k) as number | null;

  // broker.id is Kafka's older name; it wins only when node.id was not given.
  const brokerId = maybe('broker.id');
  const nodeId = explicit.has('node.id') || brokerId === null ? int('node.id') : brokerId;
  if (explicit.has('node.id') && brokerId !== null && brokerId !== nodeId)
    throw new ConfigError('broker.id', `${brokerId} differs from node.id ${nodeId}`);

  const protocolMap = parseProtocolMap(values.get('listener.security.protocol.map') as string[]);
  const listeners = parseListeners('listeners', values.get('listeners') as string[], protocolMap);
  if (listeners.length === 0) throw new ConfigError('listeners', 'at least one listener is required');
  const advertisedRaw = values.get('advertised.listeners') as string[] | null;
  const advertisedListeners = advertisedRaw
    ? parseListeners('advertised.listeners', advertisedRaw, protocolMap)
    : listeners.map((l) => ({ ...l, host: l.host === '' || l.host === '0.0.0.0' ? '127.0.0.1' : l.host }));
  for (const a of advertisedListeners) {
    if (!listeners.some((l) => l.name === a.name))
      throw new ConfigError('advertised.listeners', `listener ${a.name} is not in listeners`);
  }

  const configuredInterBroker = values.get('inter.broker.listener.name') as string | null;
  const interBrokerListener =
    configuredInterBroker?.toUpperCase() ??
    (listeners.some((l) => l.name === 'PLAINTEXT') ? 'PLAINTEXT' : listeners[0]!.name);
  if (!listeners.some((l) => l.name === interBrokerListener))
    throw new ConfigError(
      'inter.broker.listener.name',
      `listener ${interBrokerListener} is not in listeners`,
    );
  const metadataDatabaseUrl = values.get('fjord.metadata.database.url') as string | null;
  if (metadataDatabaseUrl !== null && values.get('cluster.id') === null)
    throw new ConfigError(
      'cluster.id',
      'is required with fjord.metadata.database.url (brokers of one cluster share it)',
    );

  const logDirs = (values.get('log.dirs') as string[] | null) ?? [values.get('log.dir') as string];
  if (logDirs.length === 0 || logDirs.some((d) => d === ''))
    throw new ConfigError('log.dirs', 'must name at least one directory');

  const retentionMs =
    maybe('log.retention.ms') ??
    (maybe('log.retention.minutes') !== null
      ? int('log.retention.minutes') * 60_000
      : int('log.retention.hours') * HOUR_MS);
  values.set('log.retention.ms', retentionMs);
  const rollMs = maybe('log.roll.ms') ?? int('log.roll.hours') * HOUR_MS;
  values.set('log.roll.ms', rollMs);
  // Kafka's defaults that follow the release: a broker emulating 2.4 reports 2.4-IV1 and takes
  // batches up to 1000012 bytes, as 2.4 did.
  if (!explicit.has('log.message.format.version'))
    values.set(
      'log.message.format.version',
      defaultMessageFormatVersion(values.get('fjord.kafka.version') as string),
    );
  if (!explicit.has('message.max.bytes'))
    values.set('message.max.bytes', defaultMessageMaxBytes(values.get('fjord.kafka.version') as string));
  values.set('log.roll.jitter.ms', maybe('log.roll.jitter.ms') ?? int('log.roll.jitter.hours') * HOUR_MS);
  const flushMs = maybe('log.flush.interval.ms') ?? int('log.flush.scheduler.interval.ms');
  values.set('log.flush.interval.ms', flushMs);
  // The product's default in a cluster is two replicas (Kafka's, for one broker, is one).
  if (metadataDatabaseUrl !== null && !explicit.has('default.replication.factor'))
    values.set('default.replication.factor', CLUSTERED_DEFAULT_REPLICATION_FACTOR);
  values.set('node.id', nodeId);
  values.set('broker.id', nodeId);

  return {
    nodeId,
    clusterId: values.get('cluster.id') as string | null,
    listeners,
    advertisedListeners,
    interBrokerListener,
    metadataDatabaseUrl,
    rack: values.get('broker.rack') as string | null,
    logDirs,
    numPartitions: int('num.partitions'),
    defaultReplicationFactor: int('default.replication.factor'),
    autoCreateTopics: values.get('auto.create.topics.enable') as boolean,
    messageMaxBytes: int('message.max.bytes'),
    socketRequestMaxBytes: int('socket.request.max.bytes'),
    offsetsTopicPartitions: int('offsets.topic.num.partitions'),
    groupInitialRebalanceDelayMs: int('group.initial.rebalance.delay.ms'),
    logRetentionMs: retentionMs,
    logRollMs: rollMs,
    logFlushIntervalMs: flushMs,
    kafkaVersion: values.get('fjord.kafka.version') as string,
    maxReplicationFactor: values.get('fjord.max.replication.factor') as number,
    partitionLimit: values.get('fjord.instance.partition.limit') as number,
    replica: {
      lagTimeMaxMs: int('replica.lag.time.max.ms'),
      fetchWaitMaxMs: int('replica.fetch.wait.max.ms'),
      fetchMinBytes: int('replica.fetch.min.bytes'),
      fetchResponseMaxBytes: int('replica.fetch.response.max.bytes'),
      fetchMaxBytes: int('replica.fetch.max.bytes'),
      fetchBackoffMs: int('replica.fetch.backoff.ms'),
      socketTimeoutMs: int('replica.socket.timeout.ms'),
      highWatermarkCheckpointIntervalMs: int('replica.high.watermark.checkpoint.interval.ms'),
    },
    quorum: {
      brokerSessionTimeoutMs: int('broker.session.timeout.ms'),
      brokerHeartbeatIntervalMs: int('broker.heartbeat.interval.ms'),
      leaderImbalancePerBrokerPercentage: int('leader.imbalance.per.broker.percentage'),
      leaderImbalanceCheckIntervalSeconds: int('leader.imbalance.check.interval.seconds'),
      autoLeaderRebalanceEnable: values.get('auto.leader.rebalance.enable') === true,
      metadataSnapshotIntervalRecords: int('fjord.metadata.snapshot.interval.records'),
      controllerLeaseMs: int('fjord.controller.lease.ms'),
      controllerLeaseRenewMs: int('fjord.controller.lease.renew.ms'),
      controlledShutdownEnable: values.get('controlled.shutdown.enable') === true,
      controlledShutdownTimeoutMs: int('fjord.controlled.shutdown.timeout.ms'),
    },
    groups: {
      minSessionTimeoutMs: int('group.min.session.timeout.ms'),
      maxSessionTimeoutMs: int('group.max.session.timeout.ms'),
      maxSize: int('group.max.size'),
      offsetMetadataMaxBytes: int('offset.metadata.max.bytes'),
      offsetsCommitTimeoutMs: int('offsets.commit.timeout.ms'),
      offsetsRetentionMinutes: int('offsets.retention.minutes'),
      offsetsTopicReplicationFactor: int('offsets.topic.replication.factor'),
    },
    transactions: {
      stateLogPartitions: int('transaction.state.log.num.partitions'),
      stateLogReplicationFactor: int('transaction.state.log.replication.factor'),
      stateLogMinIsr: int('transaction.state.log.min.isr'),
      stateLogSegmentBytes: int('transaction.state.log.segment.bytes'),
      maxTimeoutMs: int('transaction.max.timeout.ms'),
      abortTimedOutIntervalMs: int('transaction.abort.timed.out.transaction.cleanup.interval.ms'),
      transactionalIdExpirationMs: int('transactional.id.expiration.ms'),
      removeExpiredIntervalMs: int('transaction.remove.expired.transaction.cleanup.interval.ms'),
      producerIdExpirationCheckIntervalMs: int('producer.id.expiration.check.interval.ms'),
      producerIdExpirationMs: int('producer.id.expiration.ms'),
    },
    network: {
      connectionsMaxIdleMs: int('connections.max.idle.ms'),
      queuedMaxRequests: int('queued.max.requests'),
      queuedMaxRequestBytes: int('queued.max.request.bytes'),
      shardThreads: int('num.shard.threads'),
      connectionsMaxReauthMs: int('connections.max.reauth.ms'),
      saslServerMaxReceiveSize: int('sasl.server.max.receive.size'),
      maxIncrementalFetchSessionCacheSlots: int('max.incremental.fetch.session.cache.slots'),
      quotaWindowNum: int('quota.window.num'),
      quotaWindowSizeSeconds: int('quota.window.size.seconds'),
      instanceBandwidthBytesPerSecond: maybe('fjord.instance.bandwidth.bytes.per.second'),
    },
    logMaintenance: {
      retentionCheckIntervalMs: int('log.retention.check.interval.ms'),
      // Only an explicit false turns the cleaner off (as Broker.start read it before).
      cleanerEnable: values.get('log.cleaner.enable') !== false,
      cleanerBackoffMs: int('log.cleaner.backoff.ms'),
    },
    disk: {
      budgetBytes: int('fjord.instance.disk.bytes'),
      highWaterRatio: values.get('fjord.instance.disk.high.water.ratio') as number,
      checkIntervalMs: int('fjord.instance.disk.check.interval.ms'),
    },
    values,
    explicit,
    unknownKeys,
    ignoredKeys,
    passthrough,
    scramUsers: source.scramUsers ?? [],
  };
}

const SECURITY_PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

function parseProtocolMap(entries: readonly string[]): Map<string, SecurityProtocol> {
  const map = new Map<string, SecurityProtocol>();
  for (const entry of entries) {
    const [name, protocol] = entry.split(':');
    if (!name || !protocol || !SECURITY_PROTOCOLS.includes(protocol as SecurityProtocol))
      throw new ConfigError('listener.security.protocol.map', `'${entry}' is not NAME:PROTOCOL`);
    map.set(name.toUpperCase(), protocol as SecurityProtocol);
  }
  return map;
}

function parseListeners(
  keyName: string,
  entries: readonly string[],
  protocolMap: Map<string, SecurityProtocol>,
): ListenerConfig[] {
  const seen = new Set<string>();
  return entries.map((entry) => {
    const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:/]*):(\d+)$/.exec(entry);
    if (!m) throw new ConfigError(keyName, `'${entry}' is not NAME://host:port`);
    const name = m[1]!.toUpperCase();
    const port = Number(m[3]);
    if (port > 65535) throw new ConfigError(keyName, `port ${port} in '${entry}' is out of range`);
    const securityProtocol = protocolMap.get(name);
    if (!securityProtocol)
      throw new ConfigError(keyName, `listener ${name} has no entry in listener.security.protocol.map`);
    if (seen.has(name)) throw new ConfigError(keyName, `listener ${name} is defined twice`);
    seen.add(name);
    const host = m[2]!.replace(/^\[|\]$/g, '');
    return { name, host, port, securityProtocol };
  });
}
