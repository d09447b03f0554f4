import { z } from 'zod';
import { idSchema, ResourceName } from './ids.js';
import { TopicName } from './topics.js';

/** Connector types the runtime runs (docs/adr/0022-connector-runtime.md). */
export const CONNECTOR_TYPES = ['s3-sink', 'mirror', 'postgres-sink'] as const;
export type ConnectorType = (typeof CONNECTOR_TYPES)[number];

/** What the owner asks for: tasks run, or stay stopped with their progress kept. */
export const ConnectorDesiredState = z.enum(['RUNNING', 'PAUSED']);
/** What a task is doing: UNASSIGNED until a connect worker holds its lease. */
export const ConnectorTaskState = z.enum(['UNASSIGNED', 'RUNNING', 'PAUSED', 'FAILED']);
export type ConnectorTaskStateValue = z.infer<typeof ConnectorTaskState>;

export const CONNECTOR_LIMITS = {
  maxTasks: 16,
  maxTopics: 100,
  minRollBytes: 1024,
  maxRollBytes: 512 * 1024 * 1024,
  maxRollRecords: 10_000_000,
  minRollSeconds: 1,
  maxRollSeconds: 86_400,
} as const;
const L = CONNECTOR_LIMITS;

/** S3 bucket naming rules (the portable subset: no dots, so virtual-hosted style always works). */
const BucketName = z
  .string()
  .min(3)
  .max(63)
  .regex(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/, 'lowercase letters, digits and inner hyphens');

/** Object key prefix: relative, '/'-separated, no empty or dot segments. */
const KeyPrefix = z
  .string()
  .max(512)
  .regex(/^([A-Za-z0-9!_.*'()-]+\/)*$/, "empty, or segments of safe characters each ending in '/'")
  .refine((p) => !p.split('/').some((s) => s === '.' || s === '..'), "'.' and '..' are not segments");

/**
 * What a sink does with a record it cannot handle (Kafka Connect's `errors.tolerance` and
 * `errors.deadletterqueue.topic.name`): `none` fails the task with the reason; `all` skips the
 * record, sending it to the dead-letter topic (on the same instance) when one is named.
 */
export const SinkErrorsConfig = z
  .strictObject({
    tolerance: z.enum(['none', 'all']).default('none'),
    deadLetterTopic: TopicName.optional().describe(
      'a topic of the same instance (it must exist); the error is in the record headers',
    ),
  })
  .refine((v) => v.deadLetterTopic === undefined || v.tolerance === 'all', {
    path: ['deadLetterTopic'],
    message: "needs tolerance 'all' (with 'none' the first bad record fails the task)",
  });
export type SinkErrorsConfig = z.infer<typeof SinkErrorsConfig>;

/** How the S3 sink writes its objects (docs/adr/0022-connector-runtime.md). */
export const S3_OBJECT_FORMATS = ['jsonl.gz', 'parquet'] as const;
export type S3ObjectFormat = (typeof S3_OBJECT_FORMATS)[number];

/** The object-storage sink's settings: where objects go and when one is closed (whichever comes first). */
export const S3SinkConfig = z.strictObject({
  topics: z.array(TopicName).min(1).max(L.maxTopics),
  bucket: BucketName,
  prefix: KeyPrefix.default(''),
  region: z
    .string()
    .regex(/^[a-z0-9-]{2,32}$/)
    .default('us-east-1'),
  endpoint: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('an S3-compatible endpoint instead of AWS'),
  forcePathStyle: z
    .boolean()
    .default(false)
    .describe('bucket in the path, as most S3-compatible servers want'),
  format: z
    .enum(S3_OBJECT_FORMATS)
    .default('jsonl.gz')
    .describe(
      'jsonl.gz: gzip JSON lines; parquet: one row per record (key and value as binary), snappy-compressed',
    ),
  rollRecords: z.number().int().min(1).max(L.maxRollRecords).default(100_000),
  rollBytes: z
    .number()
    .int()
    .min(L.minRollBytes)
    .max(L.maxRollBytes)
    .default(64 * 1024 * 1024)
    .describe("uncompressed JSON-lines bytes (parquet: the records' keys, values and headers)"),
  rollSeconds: z
    .number()
    .int()
    .min(L.minRollSeconds)
    .max(L.maxRollSeconds)
    .default(600)
    .describe('an open object is closed this long after its first record arrived'),
  errors: SinkErrorsConfig.default({ tolerance: 'none' }),
});
export type S3SinkConfig = z.infer<typeof S3SinkConfig>;

/** Write-only: stored sealed, never returned (only the names of those set are). */
export const S3SinkSecrets = z.strictObject({
  accessKeyId: z.string().min(1).max(256),
  secretAccessKey: z.string().min(1).max(256),
});
export type S3SinkSecrets = z.infer<typeof S3SinkSecrets>;

/** A topic or group name pattern: a regular expression matched against the whole name. */
const NamePattern = z
  .string()
  .min(1)
  .max(249)
  .refine((p) => {
    try {
      new RegExp(`^(?:${p})$`);
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression');

const HostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'host:port')
  .max(262);

/**
 * The mirror's source: any Kafka-compatible cluster (another Fjord instance's route or not), with
 * SASL and TLS as its clients would use them. The target is the connector's own instance.
 */
export const MirrorConfig = z
  .strictObject({
    source: z.strictObject({
      bootstrapServers: z.array(HostPort).min(1).max(32),
      securityProtocol: z.enum(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']).default('PLAINTEXT'),
      saslMechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']).optional(),
      caPem: z
        .string()
        .max(64 * 1024)
        .regex(/-----BEGIN CERTIFICATE-----/, 'PEM certificates')
        .optional()
        .describe("certificates to trust for the source's TLS (the system's when absent)"),
    }),
    topicsInclude: z.array(NamePattern).min(1).max(50).describe('regular expressions over whole topic names'),
    topicsExclude: z.array(NamePattern).max(50).default([]),
    replicationFactor: z
      .number()
      .int()
      .min(1)
      .max(3)
      .optional()
      .describe("of the topics created on the target (the target's default when absent)"),
    topicSyncIntervalMs: z
      .number()
      .int()
      .min(1000)
      .max(3_600_000)
      .default(10_000)
      .describe('how often new topics, added partitions and topic configs are brought over from the source'),
    syncTopicConfigs: z
      .boolean()
      .default(true)
      .describe(
        "topic-level configs changed on the source are applied to the target's topic (MirrorMaker 2's " +
          'sync.topic.configs), except replication throttles, min.insync.replicas, unclean.leader.election.enable ' +
          'and the message timestamp settings',
      ),
    topicConfigsExclude: z
      .array(NamePattern)
      .max(50)
      .default([])
      .describe('more topic config names (regular expressions) never copied to the target'),
    provenanceHeader: z
      .boolean()
      .default(true)
      .describe(
        'copied records get a __fjord.mirror.path header: the ids of the clusters they were copied from, ' +
          'first the one they were produced on; a record whose path names the target is never copied there ' +
          'again, so two-way mirrors (or rings) of the same topics do not cycle',
      ),
    groupsInclude: z
      .array(NamePattern)
      .max(50)
      .default([])
      .describe(
        'consumer groups whose committed source offsets are translated and written to the target ' +
          '(while the group has no members there), so consumers moved over resume where they left off',
      ),
    groupsExclude: z.array(NamePattern).max(50).default([]),
    checkpointIntervalMs: z
      .number()
      .int()
      .min(1000)
      .max(3_600_000)
      .default(10_000)
      .describe('how often group offsets are translated'),
    exactlyOnce: z
      .boolean()
      .default(true)
      .describe(
        'each fetched batch is written to the target in one transaction together with its source offsets ' +
          "(a consumer group on the target named fjord-mirror.<connector id>), so the target's read_committed " +
          'view holds every source record exactly once; false: an idempotent producer, at least once',
      ),
  })
  .superRefine((v, ctx) => {
    const sasl = v.source.securityProtocol.startsWith('SASL_');
    if (sasl && !v.source.saslMechanism)
      ctx.addIssue({
        code: 'custom',
        path: ['source', 'saslMechanism'],
        message: `required with ${v.source.securityProtocol}`,
      });
    if (!sasl && v.source.saslMechanism)
      ctx.addIssue({
        code: 'custom',
        path: ['source', 'saslMechanism'],
        message: `not used with ${v.source.securityProtocol}`,
      });
  });
export type MirrorConfig = z.infer<typeof MirrorConfig>;

export const MirrorSecrets = z.strictObject({
  saslUsername: z.string().min(1).max(256).optional(),
  saslPassword: z.string().min(1).max(1024).optional(),
});
export type MirrorSecrets = z.infer<typeof MirrorSecrets>;

/** A PostgreSQL identifier the sink writes to: plain (unquoted-style) names only, so none needs escaping rules. */
const SqlIdentifier = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z_][a-z0-9_]*$/, 'lowercase letters, digits and underscores, not starting with a digit');

/**
 * The PostgreSQL sink (as a JDBC sink): record values are JSON objects whose top-level fields go to
 * the columns of the same name; the record key (UTF-8 text) goes to `keyColumn`, the primary key in
 * upsert mode. Each batch and its offsets commit in one transaction in the target database.
 */
export const PostgresSinkConfig = z.strictObject({
  topics: z.array(TopicName).min(1).max(L.maxTopics),
  connection: z.strictObject({
    host: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9.:-]+$/, 'a host name or IP address'),
    port: z.number().int().min(1).max(65_535).default(5432),
    database: z.string().min(1).max(63),
    user: z.string().min(1).max(63),
    ssl: z.boolean().default(false),
  }),
  table: SqlIdentifier,
  schema: SqlIdentifier.default('public'),
  mode: z
    .enum(['insert', 'upsert'])
    .default('insert')
    .describe('upsert: by the record key; a tombstone (null value) deletes the row'),
  keyColumn: SqlIdentifier.default('key').describe('the record key as text (the primary key in upsert mode)'),
  autoCreate: z
    .boolean()
    .default(false)
    .describe('create the table from the first records when it does not exist'),
  errors: SinkErrorsConfig.default({ tolerance: 'none' }),
});
export type PostgresSinkConfig = z.infer<typeof PostgresSinkConfig>;

/** Write-only: none when the server trusts the user. */
export const PostgresSinkSecrets = z.strictObject({
  password: z.string().min(1).max(1024).optional(),
});
export type PostgresSinkSecrets = z.infer<typeof PostgresSinkSecrets>;

const tasksMax = z.number().int().min(1).max(L.maxTasks).default(1);

export const CreateConnector = z.discriminatedUnion('type', [
  z.strictObject({
    name: ResourceName,
    type: z.literal('s3-sink'),
    tasksMax,
    config: S3SinkConfig,
    secrets: S3SinkSecrets,
  }),
  z
    .strictObject({
      name: ResourceName,
      type: z.literal('mirror'),
      tasksMax,
      config: MirrorConfig,
      secrets: MirrorSecrets.default({}),
    })
    .superRefine((v, ctx) => {
      if (!v.config.source.securityProtocol.startsWith('SASL_')) return;
      for (const k of ['saslUsername', 'saslPassword'] as const)
        if (!v.secrets[k])
          ctx.addIssue({
            code: 'custom',
            path: ['secrets', k],
            message: `required with ${v.config.source.securityProtocol}`,
          });
    }),
  z.strictObject({
    name: ResourceName,
    type: z.literal('postgres-sink'),
    tasksMax,
    config: PostgresSinkConfig,
    secrets: PostgresSinkSecrets.default({}),
  }),
]);
export type CreateConnector = z.infer<typeof CreateConnector>;

/**
 * A connector's change: `config` and `secrets` are whole (as on create, checked against the
 * connector's type; defaults filled in), so what is left out of them goes back to its default.
 */
export const PatchConnector = z
  .strictObject({
    tasksMax: z.number().int().min(1).max(L.maxTasks).optional(),
    config: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("the connector's whole config, checked as on create"),
    secrets: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('write-only, whole: replaces the secrets set'),
  })
  .refine((v) => v.tasksMax !== undefined || v.config !== undefined || v.secrets !== undefined, {
    message: 'nothing to change',
    when: (p) => p.issues.length === 0,
  });
export type PatchConnector = z.infer<typeof PatchConnector>;

/** `POST …/connectors/{id}/verify-secrets`: are these the connector's secrets (the plan's drift check)? */
export const VerifyConnectorSecrets = z.strictObject({
  secrets: z.record(z.string(), z.string().max(1024)),
});

/** Config fields that decide which task reads which partition (a change re-deals them). */
export const CONNECTOR_DEALING_FIELDS = ['topics', 'topicsInclude', 'topicsExclude'] as const;

/** The secrets a config needs that `secrets` lacks (a mirror reading over SASL needs both credentials). */
export function missingConnectorSecrets(
  type: ConnectorType,
  config: Readonly<Record<string, unknown>>,
  secrets: readonly string[],
): string[] {
  if (type !== 'mirror') return [];
  const protocol = (config.source as { securityProtocol?: string } | undefined)?.securityProtocol ?? '';
  if (!protocol.startsWith('SASL_')) return [];
  return ['saslUsername', 'saslPassword'].filter((k) => !secrets.includes(k));
}

/** A host a connector's tasks connect to, and where its config names it (the API's field path). */
export interface ConnectorDialTarget {
  readonly path: string;
  readonly host: string;
}

/**
 * The hosts a connector's (validated) config makes its tasks dial, besides its own instance: what
 * the egress rules judge (docs/adr/0022-connector-runtime.md, "Where connectors may connect"). An
 * S3 sink without `endpoint` goes to AWS and names no host.
 */
export function connectorDialTargets(
  type: ConnectorType,
  config: Readonly<Record<string, unknown>>,
): ConnectorDialTarget[] {
  switch (type) {
    case 'mirror':
      return (config as MirrorConfig).source.bootstrapServers.map((hostPort, i) => ({
        path: `/config/source/bootstrapServers/${i}`,
        host: unbracketed(hostPort.slice(0, hostPort.lastIndexOf(':'))),
      }));
    case 's3-sink': {
      const endpoint = (config as S3SinkConfig).endpoint;
      return endpoint ? [{ path: '/config/endpoint', host: unbracketed(new URL(endpoint).hostname) }] : [];
    }
    case 'postgres-sink':
      return [{ path: '/config/connection/host', host: (config as PostgresSinkConfig).connection.host }];
  }
}

/** An IPv6 literal as the resolver wants it: `[::1]` (host:port and URL form) is `::1`. */
const unbracketed = (host: string): string => host.replace(/^\[(.*)\]$/, '$1');

/** Config and secrets schemas per type, for whoever reads a stored connector back (the connect worker). */
export const CONNECTOR_SCHEMAS = {
  's3-sink': { config: S3SinkConfig, secrets: S3SinkSecrets },
  mirror: { config: MirrorConfig, secrets: MirrorSecrets },
  'postgres-sink': { config: PostgresSinkConfig, secrets: PostgresSinkSecrets },
} as const satisfies Record<ConnectorType, { config: z.ZodType; secrets: z.ZodType }>;

export const ConnectorTask = z.object({
  task: z.number().int(),
  state: ConnectorTaskState,
  reason: z.string().nullable().describe('why the task FAILED (the last error), else null'),
  workerId: z.string().nullable(),
  updatedAt: z.string(),
});

export const Connector = z.object({
  id: idSchema('connector'),
  instanceId: z.string(),
  name: z.string(),
  type: z.enum(CONNECTOR_TYPES),
  tasksMax: z.number().int(),
  config: z.record(z.string(), z.unknown()),
  secretsSet: z.array(z.string()).describe('names of the secrets given (their values are never returned)'),
  desiredState: ConnectorDesiredState,
  state: ConnectorTaskState.describe(
    'FAILED if any task failed, else RUNNING if any runs, else PAUSED/UNASSIGNED',
  ),
  tasks: z.array(ConnectorTask),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Connector = z.infer<typeof Connector>;

export const ConnectorOffsets = z.object({
  connectorId: z.string(),
  partitions: z.array(
    z.object({
      topic: z.string(),
      partition: z.number().int(),
      offset: z.number().int().describe('next offset to deliver: every record before it is in the sink'),
      updatedAt: z.string(),
    }),
  ),
});

/** New committed offsets (the connector must be paused, its tasks stopped); pending ranges are dropped. */
export const PutConnectorOffsets = z.strictObject({
  partitions: z
    .array(
      z.strictObject({
        topic: TopicName,
        partition: z.number().int().min(0).max(100_000),
        offset: z.number().int().min(0).describe('next offset to deliver'),
      }),
    )
    .min(1)
    .max(10_000),
});
export type PutConnectorOffsets = z.infer<typeof PutConnectorOffsets>;

/** A connector's overall state, from its tasks': a failure shows first, then work in progress. */
export function connectorStateOf(
  desired: z.infer<typeof ConnectorDesiredState>,
  tasks: readonly { state: ConnectorTaskStateValue }[],
): ConnectorTaskStateValue {
  if (tasks.some((t) => t.state === 'FAILED')) return 'FAILED';
  if (desired === 'PAUSED') return 'PAUSED';
  if (tasks.length > 0 && tasks.every((t) => t.state === 'RUNNING')) return 'RUNNING';
  return 'UNASSIGNED';
}
