import { atLeast, between, type ConfigKeyDef, type ConfigValue } from './ConfigDef.js';
import { validateThrottledReplicas } from './ReplicationThrottleConfigDefs.js';

/**
 * Topic-level configurations: every key Kafka 3.9's LogConfig accepts, with its type, default,
 * validation and broker synonyms (ServerTopicConfigSynonyms). Some are accepted and reported
 * but have no effect here, as documented on each (`inert`).
 */
export interface TopicConfigDef extends ConfigKeyDef {
  /** Broker configuration whose value is this topic config's default (none: only the default). */
  readonly brokerSynonym?: string;
  /**
   * Lower-priority broker synonyms (e.g. log.retention.hours for log.retention.ms), listed in
   * DescribeConfigs synonyms as Kafka lists them; the broker config resolves them into
   * `brokerSynonym` at start-up.
   */
  readonly brokerAliases?: readonly string[];
  /** Why Fjord accepts and reports this key without acting on it. */
  readonly inert?: string;
}

const LONG_MAX = Number.MAX_SAFE_INTEGER;
const DAY_MS = 86_400_000;

/** The message format Kafka 3.x reports by default; any value is ignored there (KIP-724). */
export const DEFAULT_MESSAGE_FORMAT_VERSION = '3.0-IV1';

/** The last inter-broker protocol version of each 0.10–2.x release (Kafka's ApiVersion). */
const LAST_IV_OF_RELEASE: Readonly<Record<string, string>> = {
  '0.10.0': '0.10.0-IV1',
  '0.10.1': '0.10.1-IV2',
  '0.10.2': '0.10.2-IV0',
  '0.11.0': '0.11.0-IV2',
  '1.0': '1.0-IV0',
  '1.1': '1.1-IV0',
  '2.0': '2.0-IV1',
  '2.1': '2.1-IV2',
  '2.2': '2.2-IV1',
  '2.3': '2.3-IV1',
  '2.4': '2.4-IV1',
  '2.5': '2.5-IV0',
  '2.6': '2.6-IV0',
  '2.7': '2.7-IV2',
  '2.8': '2.8-IV1',
};

/**
 * `log.message.format.version`'s default in the Kafka release a broker emulates: before 3.0 the
 * release's own latest version (2.4 reports 2.4-IV1), from 3.0 on the fixed 3.0-IV1.
 */
export function defaultMessageFormatVersion(kafkaRelease: string): string {
  const parts = kafkaRelease.split('.');
  const line = parts.slice(0, kafkaRelease.startsWith('0.') ? 3 : 2).join('.');
  return LAST_IV_OF_RELEASE[line] ?? DEFAULT_MESSAGE_FORMAT_VERSION;
}

/**
 * `message.max.bytes`' default in the Kafka release a broker emulates: 1000012 before 2.5, when
 * Kafka raised it to the Java producer's 1 MiB plus the log overhead, 1048588 (KAFKA-4203).
 */
export function defaultMessageMaxBytes(kafkaRelease: string): number {
  return kafkaReleaseAtLeast(kafkaRelease, [2, 5]) ? 1_048_588 : 1_000_012;
}

/** `2.4`, `2.4.0`, `0.10.2`, `3.8` against `[major, minor]`: the emulated release is that one or newer. */
export function kafkaReleaseAtLeast(
  kafkaRelease: string,
  [wantMajor, wantMinor]: readonly [number, number],
): boolean {
  const [major = 0, minor = 0] = kafkaRelease.split('.').map(Number);
  return major !== wantMajor ? major > wantMajor : minor >= wantMinor;
}

/**
 * Kafka's MetadataVersionValidator: a release (0.8.0 … 0.11.0, 1.0 … 3.x), optionally with a
 * patch level and an `-IVn` suffix, as MetadataVersion.fromVersionString parses it.
 */
export function validateMetadataVersion(v: ConfigValue): string | undefined {
  const text = typeof v === 'string' ? v : '';
  const ok = /^(0\.(8\.[0-2]|9\.0|10\.[0-2]|11\.0)|[12]\.[0-9]|3\.[0-9])(\.\d+)*(-IV\d+)?$/.test(text);
  return ok ? undefined : `'${text}' is not a valid Kafka version (e.g. 2.4, 2.8-IV1, 3.0-IV1)`;
}

/** Kafka refuses tiered storage on a topic when the broker has no remote log storage. */
function noRemoteStorage(v: ConfigValue): string | undefined {
  return v === true
    ? 'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.'
    : undefined;
}

/** GzipCompression's level: Deflater's -1 (default) or 1 to 9. */
function gzipLevel(v: ConfigValue): string | undefined {
  return typeof v === 'number' && v !== -1 && (v < 1 || v > 9) ? 'must be -1 or between 1 and 9' : undefined;
}

const NO_TIERED_STORAGE = 'tiered storage is not available; Kafka ignores it too while remote storage is off';
const LEVEL_NOT_APPLIED = 'accepted and reported; recompression uses the codec default level';
const TIMESTAMP_NOT_CHECKED = 'accepted and reported; record timestamps are not checked against it';

function def(
  name: string,
  type: ConfigKeyDef['type'],
  dflt: ConfigValue,
  brokerSynonym: string | undefined,
  documentation: string,
  extra: Partial<TopicConfigDef> = {},
): TopicConfigDef {
  return { name, type, default: dflt, documentation, ...(brokerSynonym ? { brokerSynonym } : {}), ...extra };
}

export const TOPIC_CONFIG_DEFS: readonly TopicConfigDef[] = [
  def(
    'cleanup.policy',
    'list',
    ['delete'],
    'log.cleanup.policy',
    'What happens to old log segments: "delete" (by retention time or size) and/or "compact" (keep the latest value per key).',
    { validValues: ['delete', 'compact'] },
  ),
  def(
    'compression.gzip.level',
    'int',
    -1,
    'compression.gzip.level',
    'Compression level when compression.type is gzip.',
    { validate: gzipLevel, inert: LEVEL_NOT_APPLIED },
  ),
  def(
    'compression.lz4.level',
    'int',
    9,
    'compression.lz4.level',
    'Compression level when compression.type is lz4.',
    { validate: between(1, 17), inert: LEVEL_NOT_APPLIED },
  ),
  def(
    'compression.type',
    'string',
    'producer',
    'compression.type',
    'Final compression of the topic\'s data: a codec, "uncompressed", or "producer" to keep what the producer sent.',
    { validValues: ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'] },
  ),
  def(
    'compression.zstd.level',
    'int',
    3,
    'compression.zstd.level',
    'Compression level when compression.type is zstd.',
    { validate: between(-131072, 22), inert: LEVEL_NOT_APPLIED },
  ),
  def(
    'delete.retention.ms',
    'long',
    DAY_MS,
    'log.cleaner.delete.retention.ms',
    'How long delete tombstones are kept on compacted topics.',
    { validate: atLeast(0) },
  ),
  def(
    'file.delete.delay.ms',
    'long',
    60_000,
    'log.segment.delete.delay.ms',
    'How long to wait before deleting a file from the filesystem.',
    { validate: atLeast(0) },
  ),
  def(
    'flush.messages',
    'long',
    LONG_MAX,
    'log.flush.interval.messages',
    'Number of messages written to a partition before its log is forced to disk.',
    { validate: atLeast(1) },
  ),
  def(
    'flush.ms',
    'long',
    LONG_MAX,
    'log.flush.interval.ms',
    'Time after which a partition log is forced to disk.',
    { validate: atLeast(0), brokerAliases: ['log.flush.scheduler.interval.ms'] },
  ),
  def(
    'follower.replication.throttled.replicas',
    'list',
    [],
    undefined,
    'Replicas whose log replication is throttled on the follower side: [PartitionId]:[BrokerId] pairs or "*".',
    { validate: validateThrottledReplicas },
  ),
  def(
    'index.interval.bytes',
    'int',
    4096,
    'log.index.interval.bytes',
    'How often an entry is added to the offset index, in bytes of log.',
    { validate: atLeast(0) },
  ),
  def(
    'leader.replication.throttled.replicas',
    'list',
    [],
    undefined,
    'Replicas whose log replication is throttled on the leader side: [PartitionId]:[BrokerId] pairs or "*".',
    { validate: validateThrottledReplicas },
  ),
  def(
    'local.retention.bytes',
    'long',
    -2,
    'log.local.retention.bytes',
    'Bytes of a partition kept locally before deletion when tiered storage is on (-2: retention.bytes).',
    { validate: atLeast(-2), inert: NO_TIERED_STORAGE },
  ),
  def(
    'local.retention.ms',
    'long',
    -2,
    'log.local.retention.ms',
    'Time a local segment is kept before deletion when tiered storage is on (-2: retention.ms).',
    { validate: atLeast(-2), inert: NO_TIERED_STORAGE },
  ),
  def(
    'max.compaction.lag.ms',
    'long',
    LONG_MAX,
    'log.cleaner.max.compaction.lag.ms',
    'Longest time a message stays ineligible for compaction.',
    { validate: atLeast(1) },
  ),
  def(
    'max.message.bytes',
    'int',
    1_048_588,
    'message.max.bytes',
    'Largest record batch size the topic accepts.',
    { validate: atLeast(0) },
  ),
  def(
    'message.downconversion.enable',
    'boolean',
    true,
    'log.message.downconversion.enable',
    'Whether older consumers may fetch records converted to their message format (deprecated).',
  ),
  def(
    'message.format.version',
    'string',
    DEFAULT_MESSAGE_FORMAT_VERSION,
    'log.message.format.version',
    '[DEPRECATED] Message format version; ignored, as by Kafka 3.x with inter.broker.protocol.version 3.0 or higher.',
    {
      validate: validateMetadataVersion,
      inert: 'deprecated; Kafka 3.x ignores it too (records are always written in format v2)',
    },
  ),
  def(
    'message.timestamp.after.max.ms',
    'long',
    LONG_MAX,
    'log.message.timestamp.after.max.ms',
    'Largest allowed amount by which a CreateTime timestamp may be ahead of the broker time.',
    { validate: atLeast(0), inert: TIMESTAMP_NOT_CHECKED },
  ),
  def(
    'message.timestamp.before.max.ms',
    'long',
    LONG_MAX,
    'log.message.timestamp.before.max.ms',
    'Largest allowed amount by which a CreateTime timestamp may be behind the broker time.',
    { validate: atLeast(0), inert: TIMESTAMP_NOT_CHECKED },
  ),
  def(
    'message.timestamp.difference.max.ms',
    'long',
    LONG_MAX,
    'log.message.timestamp.difference.max.ms',
    '[DEPRECATED] Largest allowed difference between a CreateTime timestamp and the broker time.',
    { validate: atLeast(0), inert: TIMESTAMP_NOT_CHECKED },
  ),
  def(
    'message.timestamp.type',
    'string',
    'CreateTime',
    'log.message.timestamp.type',
    "Whether record timestamps are the producer's (CreateTime) or the broker's (LogAppendTime).",
    { validValues: ['CreateTime', 'LogAppendTime'] },
  ),
  def(
    'min.cleanable.dirty.ratio',
    'double',
    0.5,
    'log.cleaner.min.cleanable.ratio',
    'Share of a compacted log that must be uncompacted before the cleaner runs.',
    { validate: between(0, 1) },
  ),
  def(
    'min.compaction.lag.ms',
    'long',
    0,
    'log.cleaner.min.compaction.lag.ms',
    'Shortest time a message stays uncompacted.',
    { validate: atLeast(0) },
  ),
  def(
    'min.insync.replicas',
    'int',
    1,
    'min.insync.replicas',
    'Minimum in-sync replicas that must acknowledge a write with acks=all.',
    { validate: atLeast(1) },
  ),
  def(
    'preallocate',
    'boolean',
    false,
    'log.preallocate',
    'Whether to preallocate the file on disk when creating a new log segment.',
  ),
  def(
    'remote.log.copy.disable',
    'boolean',
    false,
    undefined,
    'Whether copying segments to tiered storage is stopped (tiered storage only).',
    { inert: NO_TIERED_STORAGE },
  ),
  def(
    'remote.log.delete.on.disable',
    'boolean',
    false,
    undefined,
    'Whether tiered segments are deleted when tiered storage is turned off for the topic.',
    { inert: NO_TIERED_STORAGE },
  ),
  def(
    'remote.storage.enable',
    'boolean',
    false,
    undefined,
    'Whether tiered storage is on for the topic; this broker has no remote log storage, so only false is accepted.',
    { validate: noRemoteStorage },
  ),
  def(
    'retention.bytes',
    'long',
    -1,
    'log.retention.bytes',
    'Largest size a partition may grow to before old segments are deleted (-1: no limit).',
  ),
  def(
    'retention.ms',
    'long',
    7 * DAY_MS,
    'log.retention.ms',
    'Longest time a log segment is kept before it is deleted (-1: no limit).',
    { validate: atLeast(-1), brokerAliases: ['log.retention.minutes', 'log.retention.hours'] },
  ),
  def('segment.bytes', 'int', 1_073_741_824, 'log.segment.bytes', 'Size of a log segment file.', {
    validate: atLeast(14),
  }),
  def(
    'segment.index.bytes',
    'int',
    10_485_760,
    'log.index.size.max.bytes',
    'Size of the index that maps offsets to file positions.',
    { validate: atLeast(8) },
  ),
  def(
    'segment.jitter.ms',
    'long',
    0,
    'log.roll.jitter.ms',
    'Largest random jitter subtracted from segment.ms, so segments do not all roll at once.',
    { validate: atLeast(0), brokerAliases: ['log.roll.jitter.hours'] },
  ),
  def(
    'segment.ms',
    'long',
    7 * DAY_MS,
    'log.roll.ms',
    'Time after which a new segment is rolled even if the current one is not full.',
    { validate: atLeast(1), brokerAliases: ['log.roll.hours'] },
  ),
  def(
    'unclean.leader.election.enable',
    'boolean',
    false,
    'unclean.leader.election.enable',
    'Whether a replica outside the ISR may become leader as a last resort, at the risk of data loss.',
  ),
];

export const TOPIC_CONFIG_BY_NAME: ReadonlyMap<string, TopicConfigDef> = new Map(
  TOPIC_CONFIG_DEFS.map((d) => [d.name, d]),
);
