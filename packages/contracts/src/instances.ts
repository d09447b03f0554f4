import { z } from 'zod';
import { idSchema, ResourceName } from './ids.js';
import { AccessRoute, DEFAULT_ACCESS_ROUTES } from './routes.js';
import { ZoneName } from './zones.js';

export const KAFKA_VERSIONS = ['2.8', '3.0', '3.1', '3.2', '3.3', '3.4', '3.5', '3.6', '3.7', '3.8'] as const;

export const MAX_REPLICATION_FACTOR = 3;
export const MAX_BROKERS = 12;
/**
 * Share of the disk per broker (the spec's diskGiB) past which a broker deletes its oldest
 * segments and raises the disk alarm; at the whole of it produce waits (ADR 0008).
 */
export const DISK_HIGH_WATER_RATIO = 0.9;
/** The spec's diskGiB in bytes, as brokers hold it (`fjord.instance.disk.bytes`). */
export const diskBytesOf = (diskGiB: number) => diskGiB * 1024 ** 3;

/** Server-side defaults, returned explicitly in every instance so clients see what they got. */
export const INSTANCE_DEFAULTS = {
  brokerCount: 3,
  spec: { bandwidthMBps: 40, diskGiB: 100, partitionLimit: 400 },
  defaultReplicationFactor: 2,
  kafkaVersion: '3.8',
  deletionProtection: false,
  accessRoutes: DEFAULT_ACCESS_ROUTES,
} as const;

export const InstanceSpec = z.object({
  bandwidthMBps: z.number().int().min(10).max(10_000).describe('peak throughput the instance is sized for'),
  diskGiB: z.number().int().min(1).max(100_000).describe('disk per broker'),
  partitionLimit: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .describe('partitions (all topics) the instance may hold'),
});
export type InstanceSpec = z.infer<typeof InstanceSpec>;

export const InstanceStatus = z.enum(['creating', 'running', 'resizing', 'restarting', 'deleting', 'failed']);

export const Broker = z.object({
  id: z.number().int(),
  zone: z.string(),
  status: z.string().describe('where the control plane is with it: planned, starting, running, …'),
  observed: z
    .enum(['running', 'stopped', 'restarting', 'backoff', 'crash-loop', 'down'])
    .nullable()
    .describe('what its zone agent last reported of the process; null before the first look'),
  restarts: z.number().int().describe('restarts by its zone agent, as last reported'),
});

export const InstanceHealth = z.object({
  status: z.enum(['healthy', 'degraded', 'repairing', 'unknown']),
  reason: z.string().nullable().describe('what is wrong or being repaired, broker by broker'),
  checkedAt: z.iso.datetime().nullable(),
});

export const Instance = z
  .object({
    id: idSchema('instance'),
    accountId: idSchema('account'),
    name: ResourceName,
    zones: z.array(z.string()),
    brokerCount: z.number().int(),
    spec: InstanceSpec,
    defaultReplicationFactor: z.number().int(),
    kafkaVersion: z.enum(KAFKA_VERSIONS),
    accessRoutes: z.array(AccessRoute),
    status: InstanceStatus,
    statusReason: z.string().nullable(),
    health: InstanceHealth.describe('observed by the control plane from the brokers themselves'),
    deletionProtection: z.boolean(),
    bootstrapServers: z
      .array(
        z.object({
          route: z.enum(['internal', 'public']),
          securityProtocol: z.enum(['PLAINTEXT', 'SASL_PLAINTEXT', 'SASL_SSL', 'SSL']),
          servers: z.string(),
        }),
      )
      .describe('comma-separated host:port per access route; empty until brokers run'),
    caBundle: z
      .string()
      .nullable()
      .describe(
        "PEM: the CA certificates that sign the brokers' TLS certificates; clients of SASL_SSL and SSL routes trust these (and only these). Null without a TLS route, or until its first broker runs",
      ),
    brokers: z.array(Broker),
    version: z.number().int().describe('bumped on every change; also the ETag'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Instance' });
export type Instance = z.infer<typeof Instance>;

function uniqueZones(zones: string[]): boolean {
  return new Set(zones).size === zones.length;
}

export const CreateInstance = z
  .strictObject({
    name: ResourceName,
    zones: z.array(ZoneName).min(1).max(3).refine(uniqueZones, 'zones must be distinct'),
    brokerCount: z.number().int().min(1).max(MAX_BROKERS).default(INSTANCE_DEFAULTS.brokerCount),
    spec: InstanceSpec.partial()
      .strict()
      .default({})
      .transform((s) => ({ ...INSTANCE_DEFAULTS.spec, ...s })),
    defaultReplicationFactor: z
      .number()
      .int()
      .min(1)
      .max(MAX_REPLICATION_FACTOR)
      .optional()
      .describe('default 2, or brokerCount when fewer brokers'),
    kafkaVersion: z.enum(KAFKA_VERSIONS).default(INSTANCE_DEFAULTS.kafkaVersion),
    accessRoutes: z
      .array(AccessRoute)
      .min(1)
      .max(2)
      .refine((r) => new Set(r.map((x) => x.type)).size === r.length, 'one route per type')
      .default(() =>
        INSTANCE_DEFAULTS.accessRoutes.map((r) => ({ ...r, allowedCidrs: [...r.allowedCidrs] })),
      ),
    deletionProtection: z.boolean().default(INSTANCE_DEFAULTS.deletionProtection),
  })
  .superRefine((v, ctx) => {
    if (v.defaultReplicationFactor !== undefined && v.defaultReplicationFactor > v.brokerCount)
      ctx.addIssue({
        code: 'custom',
        path: ['defaultReplicationFactor'],
        message: `cannot exceed brokerCount (${v.brokerCount})`,
      });
  })
  .transform((v) => ({
    ...v,
    defaultReplicationFactor:
      v.defaultReplicationFactor ?? Math.min(INSTANCE_DEFAULTS.defaultReplicationFactor, v.brokerCount),
  }));
export type CreateInstance = z.infer<typeof CreateInstance>;

/** Instant changes (no operation): name and deletion protection. */
export const PatchInstance = z
  .strictObject({ name: ResourceName.optional(), deletionProtection: z.boolean().optional() })
  // Only when the fields are valid: an unknown field alone is reported, not as 'nothing'.
  .refine((v) => v.name !== undefined || v.deletionProtection !== undefined, {
    message: 'nothing to change',
    when: (p) => p.issues.length === 0,
  });

export const ResizeInstance = z
  .strictObject({
    brokerCount: z.number().int().min(1).max(MAX_BROKERS).optional(),
    spec: InstanceSpec.partial().strict().optional(),
  })
  // Only when the fields are valid: an unknown field alone is reported, not as 'nothing'.
  .refine((v) => v.brokerCount !== undefined || v.spec !== undefined, {
    message: 'give brokerCount and/or spec',
    when: (p) => p.issues.length === 0,
  });

export const InstanceListQuery = z.object({
  status: InstanceStatus.optional(),
  name: z.string().max(64).optional().describe('exact name'),
  zone: z.string().max(32).optional(),
});

export const instanceId = idSchema('instance');
