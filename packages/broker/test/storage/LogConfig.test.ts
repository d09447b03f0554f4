import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LOG_CONFIG,
  logConfigFromTopicConfigs,
  parseCleanupPolicy,
  resolveLogConfig,
} from '../../src/storage/LogConfig.js';

describe('LogConfig', () => {
  it("reads Kafka's topic config names, with Kafka's defaults for what is absent", () => {
    const topic = new Map<string, string>([
      ['segment.bytes', '1048576'],
      ['cleanup.policy', 'compact, delete'],
      ['message.timestamp.type', 'LogAppendTime'],
      ['flush.messages', '9223372036854775807'],
      ['min.cleanable.dirty.ratio', '0.1'],
    ]);
    const config = logConfigFromTopicConfigs((name) => topic.get(name) ?? null);
    expect(config).toMatchObject({
      segmentBytes: 1_048_576,
      logAppendTime: true,
      cleanupPolicy: { compact: true, delete: true },
      flushMessages: Number.MAX_SAFE_INTEGER,
      minCleanableDirtyRatio: 0.1,
      retentionMs: DEFAULT_LOG_CONFIG.retentionMs,
      indexIntervalBytes: 4096,
      deleteRetentionMs: 86_400_000,
    });
  });

  it('fills optional settings for callers that only know the original eight', () => {
    const { cleanupPolicy, segmentIndexBytes, minCompactionLagMs, ...base } = DEFAULT_LOG_CONFIG;
    const resolved = resolveLogConfig({ ...base, cleanupPolicy: undefined });
    expect(resolved.cleanupPolicy).toEqual({ delete: true, compact: false });
    expect(resolved.segmentIndexBytes).toBe(segmentIndexBytes);
    expect(resolved.minCompactionLagMs).toBe(minCompactionLagMs);
    expect(parseCleanupPolicy('compact')).toEqual({ delete: false, compact: true });
    expect(parseCleanupPolicy(null)).toEqual({ delete: true, compact: false });
    expect(cleanupPolicy).toBeDefined();
  });
});
