import { z } from 'zod';
import { MAX_REPLICATION_FACTOR } from './instances.js';

/** Kafka's topic name rule (legal characters, at most 249). */
export const TopicName = z
  .string()
  .min(1)
  .max(249)
  .regex(/^[a-zA-Z0-9._-]+$/, "Kafka topic names use letters, digits, '.', '_' and '-'")
  .refine((n) => n !== '.' && n !== '..', "'.' and '..' are not topic names")
  .refine((n) => !n.startsWith('__'), 'names starting with __ are internal');

/** Topic configs users may set, with the shape of value each takes. */
export const TOPIC_CONFIGS: Readonly<Record<string, RegExp>> = {
  'cleanup.policy': /^(delete|compact|compact,delete|delete,compact)$/,
  'compression.type': /^(uncompressed|zstd|lz4|snappy|gzip|producer)$/,
  'delete.retention.ms': /^\d{1,18}$/,
  'file.delete.delay.ms': /^\d{1,18}$/,
  'max.compaction.lag.ms': /^\d{1,18}$/,
  'max.message.bytes': /^\d{1,10}$/,
  'message.timestamp.type': /^(CreateTime|LogAppendTime)$/,
  'min.cleanable.dirty.ratio': /^(0(\.\d+)?|1(\.0+)?)$/,
  'min.compaction.lag.ms': /^\d{1,18}$/,
  'min.insync.replicas': /^[1-3]$/,
  'retention.bytes': /^-?\d{1,18}$/,
  'retention.ms': /^-?\d{1,18}$/,
  'segment.bytes': /^\d{1,10}$/,
  'segment.ms': /^\d{1,18}$/,
};

function checkTopicConfigs(configs: Readonly<Record<string, string | null>>, ctx: z.RefinementCtx): void {
  for (const [k, v] of Object.entries(configs)) {
    const rule = TOPIC_CONFIGS[k];
    if (!rule) ctx.addIssue({ code: 'custom', path: [k], message: `unknown topic config '${k}'` });
    else if (v !== null && !rule.test(v))
      ctx.addIssue({ code: 'custom', path: [k], message: `invalid value '${v}'` });
  }
}

export const TopicConfigs = z.record(z.string(), z.string()).superRefine(checkTopicConfigs);

/** A PATCH's configs: a value sets the key, `null` removes the topic's override (the broker default applies). */
export const TopicConfigChanges = z.record(z.string(), z.string().nullable()).superRefine(checkTopicConfigs);

export const Topic = z
  .object({
    name: z.string(),
    partitions: z.number().int(),
    replicationFactor: z.number().int(),
    configs: z.record(z.string(), z.string()).describe('configs set on the topic (not broker defaults)'),
    status: z.enum(['active', 'creating', 'deleting']),
    operationId: z.string().nullable().describe('the operation changing it, while one runs'),
  })
  .meta({ id: 'Topic' });
export type Topic = z.infer<typeof Topic>;

export const DEFAULT_TOPIC_PARTITIONS = 3;

export const CreateTopic = z.strictObject({
  name: TopicName,
  partitions: z.number().int().min(1).max(1000).default(DEFAULT_TOPIC_PARTITIONS),
  replicationFactor: z
    .number()
    .int()
    .min(1)
    .max(MAX_REPLICATION_FACTOR)
    .optional()
    .describe("defaults to the instance's defaultReplicationFactor"),
  configs: TopicConfigs.default({}),
});
export type CreateTopic = z.infer<typeof CreateTopic>;

export const PatchTopic = z
  .strictObject({
    partitions: z.number().int().min(1).max(1000).optional().describe('may only grow'),
    configs: TopicConfigChanges.optional().describe(
      'sets the configs given (null removes the override, back to the default); others are kept',
    ),
  })
  // Only when the fields are valid: an unknown field alone is reported, not as 'nothing'.
  .refine((v) => v.partitions !== undefined || v.configs !== undefined, {
    message: 'nothing to change',
    when: (p) => p.issues.length === 0,
  });
export type PatchTopic = z.infer<typeof PatchTopic>;

export const Message = z
  .object({
    partition: z.number().int(),
    offset: z.number().int(),
    timestamp: z.number().int().describe('epoch ms'),
    key: z.string().nullable(),
    value: z.string().nullable().describe('UTF-8 text of the value'),
    headers: z.record(z.string(), z.string()),
  })
  .meta({ id: 'Message' });

export const MessageQuery = z
  .strictObject({
    offset: z.coerce.number().int().min(0).optional(),
    timestamp: z.coerce
      .number()
      .int()
      .min(0)
      .optional()
      .describe('epoch ms: start at the first record at or after it'),
    latest: z.coerce.number().int().min(1).max(100).optional().describe('the last N records'),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .refine(
    (q) => [q.offset, q.timestamp, q.latest].filter((v) => v !== undefined).length <= 1,
    'give one of offset, timestamp, latest',
  );

export const MessagePage = z.object({
  messages: z.array(Message),
  nextOffset: z.number().int(),
  highWatermark: z.number().int(),
});

export const ProduceMessage = z.strictObject({
  partition: z.number().int().min(0).max(9999).optional().describe('default 0'),
  key: z.string().max(4096).optional(),
  value: z.string().max(256 * 1024),
  headers: z.record(z.string().max(256), z.string().max(4096)).optional(),
});
