import { atLeast, between, type ConfigKeyDef, type ConfigValue } from './ConfigDef.js';
import { validateThrottledReplicas } from './ReplicationThrottleConfigDefs.js';

/**
 * Topic-level configurations with Kafka's names, each paired with the broker key that
 * supplies its default (as Kafka's LogConfig / ServerTopicConfigSynonyms do).
 */
export interface TopicConfigDef extends ConfigKeyDef {
  /** Broker configuration whose value is this topic config's default (none: only the default). */
  readonly brokerSynonym?: string;
}

const LONG_MAX = Number.MAX_SAFE_INTEGER;
const DAY_MS = 86_400_000;

function def(
  name: string,
  type: ConfigKeyDef['type'],
  dflt: ConfigValue,
  brokerSynonym: string | undefined,
  extra: Partial<ConfigKeyDef> = {},
): TopicConfigDef {
  return { name, type, default: dflt, ...(brokerSynonym ? { brokerSynonym } : {}), ...extra };
}

export const TOPIC_CONFIG_DEFS: readonly TopicConfigDef[] = [
  def('cleanup.policy', 'list', ['delete'], 'log.cleanup.policy', { validValues: ['delete', 'compact'] }),
  def('compression.type', 'string', 'producer', 'compression.type', {
    validValues: ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'],
  }),
  def('delete.retention.ms', 'long', DAY_MS, 'log.cleaner.delete.retention.ms', { validate: atLeast(0) }),
  def('file.delete.delay.ms', 'long', 60_000, 'log.segment.delete.delay.ms', { validate: atLeast(0) }),
  def('follower.replication.throttled.replicas', 'list', [], undefined, {
    validate: validateThrottledReplicas,
  }),
  def('flush.messages', 'long', LONG_MAX, 'log.flush.interval.messages', { validate: atLeast(1) }),
  def('flush.ms', 'long', LONG_MAX, 'log.flush.interval.ms', { validate: atLeast(0) }),
  def('index.interval.bytes', 'int', 4096, 'log.index.interval.bytes', { validate: atLeast(0) }),
  def('leader.replication.throttled.replicas', 'list', [], undefined, {
    validate: validateThrottledReplicas,
  }),
  def('max.compaction.lag.ms', 'long', LONG_MAX, 'log.cleaner.max.compaction.lag.ms', {
    validate: atLeast(1),
  }),
  def('max.message.bytes', 'int', 1_048_588, 'message.max.bytes', { validate: atLeast(0) }),
  def('message.timestamp.type', 'string', 'CreateTime', 'log.message.timestamp.type', {
    validValues: ['CreateTime', 'LogAppendTime'],
  }),
  def('message.timestamp.difference.max.ms', 'long', LONG_MAX, 'log.message.timestamp.difference.max.ms', {
    validate: atLeast(0),
  }),
  def('message.downconversion.enable', 'boolean', true, 'log.message.downconversion.enable'),
  def('min.cleanable.dirty.ratio', 'double', 0.5, 'log.cleaner.min.cleanable.ratio', {
    validate: between(0, 1),
  }),
  def('min.compaction.lag.ms', 'long', 0, 'log.cleaner.min.compaction.lag.ms', { validate: atLeast(0) }),
  def('min.insync.replicas', 'int', 1, 'min.insync.replicas', { validate: atLeast(1) }),
  def('preallocate', 'boolean', false, 'log.preallocate'),
  def('retention.bytes', 'long', -1, 'log.retention.bytes'),
  def('retention.ms', 'long', 7 * DAY_MS, 'log.retention.ms', { validate: atLeast(-1) }),
  def('segment.bytes', 'int', 1_073_741_824, 'log.segment.bytes', { validate: atLeast(14) }),
  def('segment.index.bytes', 'int', 10_485_760, 'log.index.size.max.bytes', { validate: atLeast(8) }),
  def('segment.jitter.ms', 'long', 0, 'log.roll.jitter.ms', { validate: atLeast(0) }),
  def('segment.ms', 'long', 7 * DAY_MS, 'log.roll.ms', { validate: atLeast(1) }),
  def('unclean.leader.election.enable', 'boolean', false, 'unclean.leader.election.enable'),
];

export const TOPIC_CONFIG_BY_NAME: ReadonlyMap<string, TopicConfigDef> = new Map(
  TOPIC_CONFIG_DEFS.map((d) => [d.name, d]),
);
