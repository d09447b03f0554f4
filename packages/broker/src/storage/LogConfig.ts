/**
 * The per-partition settings the log itself acts on (Kafka's LogConfig), already resolved from
 * topic overrides and broker defaults. Optional fields fall back to Kafka's defaults so callers
 * that only know the original eight keep working.
 */
export interface LogConfig {
  /** segment.bytes: roll when the active segment would grow past this. */
  readonly segmentBytes: number;
  /** segment.ms: roll when the active segment's first batch is this old. */
  readonly segmentMs: number;
  /** retention.ms: delete segments whose newest record is older; -1 keeps forever. */
  readonly retentionMs: number;
  /** retention.bytes: delete oldest segments while the log is larger; -1 means no limit. */
  readonly retentionBytes: number;
  /** flush.messages: fsync after this many unflushed records. */
  readonly flushMessages: number;
  /** flush.ms: fsync when the last flush is this old (checked by the flush scheduler). */
  readonly flushMs: number;
  /** index.interval.bytes: bytes of batches between two sparse index entries. */
  readonly indexIntervalBytes: number;
  /** message.timestamp.type=LogAppendTime: stamp the broker's clock on appended batches. */
  readonly logAppendTime: boolean;
  /** segment.index.bytes: size bound of each index file; a full index rolls the segment. */
  readonly segmentIndexBytes?: number;
  /** segment.jitter.ms: each segment rolls up to this much (chosen at random) before segment.ms. */
  readonly segmentJitterMs?: number;
  /** cleanup.policy: `delete`, `compact` or both. */
  readonly cleanupPolicy?: CleanupPolicy;
  /** delete.retention.ms: how long tombstones survive once a cleaning pass has seen them. */
  readonly deleteRetentionMs?: number;
  /** min.cleanable.dirty.ratio: dirty / total bytes at which a log becomes worth cleaning. */
  readonly minCleanableDirtyRatio?: number;
  /** min.compaction.lag.ms: records younger than this are never compacted. */
  readonly minCompactionLagMs?: number;
  /** max.compaction.lag.ms: dirty records older than this force a clean whatever the ratio. */
  readonly maxCompactionLagMs?: number;
}

export interface CleanupPolicy {
  readonly delete: boolean;
  readonly compact: boolean;
}

const DAY_MS = 86_400_000;
const LONG_MAX = Number.MAX_SAFE_INTEGER;

export const DEFAULT_LOG_CONFIG: LogConfig = {
  segmentBytes: 1_073_741_824,
  segmentMs: 7 * DAY_MS,
  retentionMs: 7 * DAY_MS,
  retentionBytes: -1,
  flushMessages: LONG_MAX,
  flushMs: LONG_MAX,
  indexIntervalBytes: 4096,
  logAppendTime: false,
  segmentIndexBytes: 10_485_760,
  segmentJitterMs: 0,
  cleanupPolicy: { delete: true, compact: false },
  deleteRetentionMs: DAY_MS,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  maxCompactionLagMs: LONG_MAX,
};

/** A LogConfig with every optional field filled in. */
export type ResolvedLogConfig = Required<LogConfig>;

export function resolveLogConfig(config: LogConfig): ResolvedLogConfig {
  return {
    segmentIndexBytes: DEFAULT_LOG_CONFIG.segmentIndexBytes!,
    segmentJitterMs: DEFAULT_LOG_CONFIG.segmentJitterMs!,
    cleanupPolicy: DEFAULT_LOG_CONFIG.cleanupPolicy!,
    deleteRetentionMs: DEFAULT_LOG_CONFIG.deleteRetentionMs!,
    minCleanableDirtyRatio: DEFAULT_LOG_CONFIG.minCleanableDirtyRatio!,
    minCompactionLagMs: DEFAULT_LOG_CONFIG.minCompactionLagMs!,
    maxCompactionLagMs: DEFAULT_LOG_CONFIG.maxCompactionLagMs!,
    ...stripUndefined(config),
  };
}

function stripUndefined(config: LogConfig): LogConfig {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (v !== undefined) out[k] = v;
  return out as unknown as LogConfig;
}

/** `compact,delete` (Kafka's list syntax, any order, spaces allowed) → flags. */
export function parseCleanupPolicy(value: string | null | undefined): CleanupPolicy {
  const parts = new Set(
    (value ?? 'delete')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
  return { delete: parts.has('delete'), compact: parts.has('compact') };
}

/**
 * Builds a LogConfig from Kafka topic config names (`segment.bytes`, `cleanup.policy`, …) as a
 * config source resolves them; absent names take Kafka's defaults.
 */
export function logConfigFromTopicConfigs(get: (name: string) => string | null | undefined): LogConfig {
  const num = (name: string, fallback: number): number => {
    const v = get(name);
    if (v === null || v === undefined || v === '') return fallback;
    const n = Number(v);
    // Kafka's Long.MAX_VALUE does not fit a double exactly; treat anything that large as "never".
    return Number.isFinite(n) ? Math.min(n, LONG_MAX) : fallback;
  };
  const d = DEFAULT_LOG_CONFIG;
  return {
    segmentBytes: num('segment.bytes', d.segmentBytes),
    segmentMs: num('segment.ms', d.segmentMs),
    retentionMs: num('retention.ms', d.retentionMs),
    retentionBytes: num('retention.bytes', d.retentionBytes),
    flushMessages: num('flush.messages', d.flushMessages),
    flushMs: num('flush.ms', d.flushMs),
    indexIntervalBytes: num('index.interval.bytes', d.indexIntervalBytes),
    logAppendTime: get('message.timestamp.type') === 'LogAppendTime',
    segmentIndexBytes: num('segment.index.bytes', d.segmentIndexBytes!),
    segmentJitterMs: num('segment.jitter.ms', d.segmentJitterMs!),
    cleanupPolicy: parseCleanupPolicy(get('cleanup.policy')),
    deleteRetentionMs: num('delete.retention.ms', d.deleteRetentionMs!),
    minCleanableDirtyRatio: num('min.cleanable.dirty.ratio', d.minCleanableDirtyRatio!),
    minCompactionLagMs: num('min.compaction.lag.ms', d.minCompactionLagMs!),
    maxCompactionLagMs: num('max.compaction.lag.ms', d.maxCompactionLagMs!),
  };
}
