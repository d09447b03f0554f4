import { z } from 'zod';
import { idSchema, ResourceName } from './ids.js';

/** The four levels CKafka monitors at; each metric belongs to one. */
export const MetricLevel = z.enum(['instance', 'topic', 'group', 'partition']);
export type MetricLevel = z.infer<typeof MetricLevel>;

interface MetricInfo {
  readonly name: string;
  readonly level: MetricLevel;
  readonly unit: string;
  readonly description: string;
}

/**
 * The metrics users can chart and alarm on. Names are `<level>.<what>`; the PromQL behind each
 * lives in @fjord/monitoring, so neither callers nor policies ever write PromQL themselves.
 */
export const METRICS = [
  { name: 'instance.bytes_in', level: 'instance', unit: 'bytes/s', description: 'Bytes produced per second' },
  {
    name: 'instance.bytes_out',
    level: 'instance',
    unit: 'bytes/s',
    description: 'Bytes fetched by consumers per second',
  },
  {
    name: 'instance.messages_in',
    level: 'instance',
    unit: 'messages/s',
    description: 'Messages produced per second',
  },
  {
    name: 'instance.failed_produce',
    level: 'instance',
    unit: 'requests/s',
    description: 'Failed produce requests per second',
  },
  {
    name: 'instance.failed_fetch',
    level: 'instance',
    unit: 'requests/s',
    description: 'Failed fetch requests per second',
  },
  {
    name: 'instance.requests',
    level: 'instance',
    unit: 'requests/s',
    description: 'Kafka requests per second, all APIs',
  },
  {
    name: 'instance.connections',
    level: 'instance',
    unit: 'connections',
    description: 'Open client connections',
  },
  {
    name: 'instance.brokers_up',
    level: 'instance',
    unit: 'brokers',
    description: 'Brokers answering metric scrapes',
  },
  {
    name: 'instance.partitions',
    level: 'instance',
    unit: 'partitions',
    description: 'Partitions (leaders) in the instance',
  },
  {
    name: 'instance.under_replicated_partitions',
    level: 'instance',
    unit: 'partitions',
    description: 'Partitions with fewer in-sync replicas than replicas',
  },
  {
    name: 'instance.offline_partitions',
    level: 'instance',
    unit: 'partitions',
    description: 'Partitions without a leader',
  },
  {
    name: 'instance.disk_used_bytes',
    level: 'instance',
    unit: 'bytes',
    description: 'Bytes of partition data on all brokers (every replica)',
  },
  {
    name: 'instance.disk_used_percent',
    level: 'instance',
    unit: 'percent',
    description: 'Used share of the fullest broker log dir',
  },
  {
    name: 'instance.disk_budget_used_percent',
    level: 'instance',
    unit: 'percent',
    description: "Used share of the fullest broker's disk per broker (the spec's diskGiB)",
  },
  {
    name: 'instance.disk_high_water_hits',
    level: 'instance',
    unit: 'checks',
    description:
      'Checks that found a broker at or above its disk high-water mark (its oldest segments then deleted)',
  },
  {
    name: 'instance.connector_records',
    level: 'instance',
    unit: 'records/s',
    description: 'Records each connector delivers per second (its sink or mirror target)',
  },
  {
    name: 'instance.connector_lag',
    level: 'instance',
    unit: 'messages',
    description: 'Records each connector has yet to deliver (high watermark minus its committed position)',
  },
  {
    name: 'instance.connector_task_failures',
    level: 'instance',
    unit: 'failures',
    description: "Failures of each connector's tasks in the window (each is retried with backoff)",
  },
  {
    name: 'topic.bytes_in',
    level: 'topic',
    unit: 'bytes/s',
    description: 'Bytes produced to the topic per second',
  },
  {
    name: 'topic.bytes_out',
    level: 'topic',
    unit: 'bytes/s',
    description: 'Bytes fetched from the topic by consumers per second',
  },
  {
    name: 'topic.messages_in',
    level: 'topic',
    unit: 'messages/s',
    description: 'Messages produced to the topic per second',
  },
  {
    name: 'topic.failed_produce',
    level: 'topic',
    unit: 'requests/s',
    description: 'Failed produce requests to the topic per second',
  },
  {
    name: 'topic.size_bytes',
    level: 'topic',
    unit: 'bytes',
    description: 'Size of the topic (one replica of each partition)',
  },
  {
    name: 'group.lag',
    level: 'group',
    unit: 'messages',
    description: 'Messages not yet consumed by the group, all partitions',
  },
  {
    name: 'group.max_partition_lag',
    level: 'group',
    unit: 'messages',
    description: 'Largest lag of any partition the group consumes',
  },
  {
    name: 'partition.size_bytes',
    level: 'partition',
    unit: 'bytes',
    description: 'Size of the partition (one replica)',
  },
  {
    name: 'partition.log_end_offset',
    level: 'partition',
    unit: 'offset',
    description: 'Offset of the next message produced',
  },
  {
    name: 'partition.log_start_offset',
    level: 'partition',
    unit: 'offset',
    description: 'First offset still kept',
  },
  {
    name: 'partition.consumer_lag',
    level: 'partition',
    unit: 'messages',
    description: "A group's lag on the partition",
  },
  {
    name: 'partition.consumer_offset',
    level: 'partition',
    unit: 'offset',
    description: "A group's committed offset on the partition",
  },
] as const satisfies readonly MetricInfo[];

export type MetricName = (typeof METRICS)[number]['name'];
export const MetricName = z.enum(METRICS.map((m) => m.name) as [MetricName, ...MetricName[]]);

export function metricInfo(name: MetricName): (typeof METRICS)[number] {
  return METRICS.find((m) => m.name === name)!;
}

/** Kafka's topic name characters; other names cannot exist, so they need not be escaped. */
export const TopicFilter = z
  .string()
  .min(1)
  .max(249)
  .regex(/^[a-zA-Z0-9._-]+$/, "Kafka topic names use letters, digits, '.', '_' and '-'");
/** Group ids are any string Kafka accepts; PromQL escaping makes every one safe. */
export const GroupFilter = z.string().min(1).max(249);

/** Which topic, group or partition a metric (or an alarm) looks at. */
export const MetricScope = z
  .object({
    topic: TopicFilter.optional(),
    group: GroupFilter.optional(),
    partition: z.coerce.number().int().min(0).max(99_999).optional(),
  })
  .strict();
export type MetricScope = z.infer<typeof MetricScope>;

/** The filters a metric takes: a filter it cannot honour is an error, not silently ignored. */
export function filtersOf(metric: MetricName): readonly (keyof MetricScope)[] {
  const level = metricInfo(metric).level;
  if (level === 'instance') return [];
  if (level === 'topic') return ['topic'];
  if (level === 'group') return ['group'];
  return metric.startsWith('partition.consumer_') ? ['group', 'topic', 'partition'] : ['topic', 'partition'];
}

/** The issues of a scope used with a metric, as field paths under `prefix`. */
export function scopeIssues(
  metric: MetricName,
  scope: MetricScope,
  prefix: string,
): { path: string; message: string; code: string }[] {
  const allowed = filtersOf(metric);
  const issues: { path: string; message: string; code: string }[] = [];
  for (const key of Object.keys(scope) as (keyof MetricScope)[]) {
    if (scope[key] !== undefined && !allowed.includes(key))
      issues.push({
        path: `${prefix}/${key}`,
        message: `${metric} takes ${allowed.length ? `only ${allowed.join(', ')}` : 'no filter'}`,
        code: 'not_applicable',
      });
  }
  if (scope.partition !== undefined && scope.topic === undefined)
    issues.push({ path: `${prefix}/topic`, message: 'a partition filter needs its topic', code: 'required' });
  if (allowed.includes('group') && metric.startsWith('partition.') && scope.group === undefined)
    issues.push({ path: `${prefix}/group`, message: `${metric} needs a group`, code: 'required' });
  return issues;
}

export const MetricCatalogueEntry = z
  .object({
    name: MetricName,
    level: MetricLevel,
    unit: z.string(),
    description: z.string(),
    filters: z.array(z.enum(['topic', 'group', 'partition'])),
  })
  .meta({ id: 'MetricCatalogueEntry' });

/** Limits that keep a query cheap for Prometheus and the API. */
export const METRIC_QUERY_LIMITS = {
  minStepSeconds: 5,
  maxPoints: 1100,
  maxRangeSeconds: 31 * 24 * 3600,
  defaultRangeSeconds: 3600,
} as const;

export const MetricQuery = z
  .object({
    from: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('start (RFC 3339); default: an hour before `to`'),
    to: z.iso.datetime({ offset: true }).optional().describe('end (RFC 3339); default: now'),
    step: z.coerce
      .number()
      .int()
      .min(METRIC_QUERY_LIMITS.minStepSeconds)
      .max(86_400)
      .optional()
      .describe('seconds between points; default: the range over 120 points, at least 5'),
    topic: TopicFilter.optional(),
    group: GroupFilter.optional(),
    partition: z.coerce.number().int().min(0).max(99_999).optional(),
  })
  .strict();
export type MetricQuery = z.infer<typeof MetricQuery>;

export const MetricSeries = z.object({
  labels: z.record(z.string(), z.string()).describe('topic, group and/or partition the series is for'),
  points: z
    .array(z.tuple([z.number(), z.number().nullable()]))
    .describe('[unix seconds, value]; null where Prometheus has no number (NaN)'),
});

export const MetricQueryResult = z
  .object({
    metric: MetricName,
    level: MetricLevel,
    unit: z.string(),
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    step: z.number().int(),
    series: z.array(MetricSeries),
  })
  .meta({ id: 'MetricQueryResult' });
export type MetricQueryResult = z.infer<typeof MetricQueryResult>;

// ---- alarms ----

export const Comparison = z.enum(['>', '>=', '<', '<=', '==', '!=']);
export const Severity = z.enum(['info', 'warning', 'critical']);
export const channelId = idSchema('notificationChannel');
export const alarmPolicyId = idSchema('alarmPolicy');

const AlarmPolicyFields = {
  name: ResourceName,
  metric: MetricName,
  scope: MetricScope.default({}).describe('which topic / group / partition; omitted: every one of the level'),
  comparison: Comparison,
  threshold: z.number().finite(),
  durationSeconds: z
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(60)
    .describe('how long the condition must hold before the alarm fires'),
  severity: Severity.default('warning'),
  channelIds: z.array(channelId).max(10).default([]),
  enabled: z.boolean().default(true).describe('disabled policies are not evaluated'),
  muted: z.boolean().default(false).describe('muted policies record events but notify no one'),
};

export const CreateAlarmPolicy = z.object(AlarmPolicyFields).strict();
export type CreateAlarmPolicy = z.infer<typeof CreateAlarmPolicy>;

export const PatchAlarmPolicy = z
  .object({
    name: ResourceName,
    scope: MetricScope,
    comparison: Comparison,
    threshold: z.number().finite(),
    durationSeconds: z.number().int().min(0).max(86_400),
    severity: Severity,
    channelIds: z.array(channelId).max(10),
    enabled: z.boolean(),
    muted: z.boolean(),
  })
  .partial()
  .strict();
export type PatchAlarmPolicy = z.infer<typeof PatchAlarmPolicy>;

export const AlarmPolicy = z
  .object({
    id: z.string(),
    instanceId: z.string(),
    name: z.string(),
    metric: MetricName,
    scope: MetricScope,
    comparison: Comparison,
    threshold: z.number(),
    durationSeconds: z.number().int(),
    severity: Severity,
    channelIds: z.array(z.string()),
    enabled: z.boolean(),
    muted: z.boolean(),
    system: z
      .boolean()
      .describe(
        'built in, every instance has it: channels, severity, enabled and muted may change; it cannot be deleted',
      ),
    version: z.number().int(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'AlarmPolicy' });
export type AlarmPolicy = z.infer<typeof AlarmPolicy>;

/** What a system alarm policy's owner may change (what it watches stays as built). */
export const SYSTEM_POLICY_MUTABLE = ['channelIds', 'severity', 'enabled', 'muted'] as const;

/**
 * The alarm policies every instance gets at creation (ADR 0008). The disk high-water alarm fires
 * while brokers keep finding themselves at the mark (each check past it counts), and resolves a
 * window after the last: the broker trims back below the mark within a second, faster than any
 * scrape would see a usage gauge above it.
 */
export const SYSTEM_ALARM_POLICIES = [
  {
    name: 'disk-high-water',
    metric: 'instance.disk_high_water_hits',
    scope: {},
    comparison: '>',
    threshold: 0,
    durationSeconds: 0,
    severity: 'critical',
  },
] as const satisfies readonly Omit<CreateAlarmPolicy, 'channelIds' | 'enabled' | 'muted'>[];

export const NotificationDelivery = z.object({
  channelId: z.string(),
  state: z.enum(['firing', 'resolved']).describe('the state change this delivery announces'),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  responseStatus: z.number().int().nullable(),
  deliveredAt: z.iso.datetime().nullable(),
});

export const AlarmEvent = z
  .object({
    id: z.string(),
    policyId: z.string(),
    instanceId: z.string(),
    status: z.enum(['firing', 'resolved']),
    severity: Severity,
    labels: z.record(z.string(), z.string()).describe('topic / group / partition the alarm is about'),
    value: z.number().nullable().describe('the metric when the alarm fired'),
    startsAt: z.iso.datetime(),
    endsAt: z.iso.datetime().nullable(),
    deliveries: z.array(NotificationDelivery),
  })
  .meta({ id: 'AlarmEvent' });
export type AlarmEvent = z.infer<typeof AlarmEvent>;

export const AlarmEventQuery = z
  .object({
    status: z.enum(['firing', 'resolved']).optional(),
    policyId: alarmPolicyId.optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

export const CreateNotificationChannel = z
  .object({
    name: ResourceName,
    type: z.literal('webhook'),
    url: z
      .url({ protocol: /^https?$/ })
      .max(2048)
      .describe('receives a POST per alarm state change, signed with the channel secret'),
  })
  .strict();
export type CreateNotificationChannel = z.infer<typeof CreateNotificationChannel>;

export const NotificationChannel = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.literal('webhook'),
    url: z.string(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'NotificationChannel' });
export type NotificationChannel = z.infer<typeof NotificationChannel>;

export const CreatedNotificationChannel = NotificationChannel.extend({
  secret: z
    .string()
    .describe(
      'HMAC-SHA256 key for X-Fjord-Signature; shown only now. X-Fjord-Signature is sha256= and the hex HMAC of the X-Fjord-Timestamp value, a dot, and the body',
    ),
}).meta({ id: 'CreatedNotificationChannel' });

/** The body every webhook receives (one per alarm state change). */
export const AlarmNotificationBody = z.object({
  type: z.literal('alarm'),
  state: z.enum(['firing', 'resolved']),
  eventId: z.string(),
  policy: z.object({ id: z.string(), name: z.string(), metric: MetricName, severity: Severity }),
  instanceId: z.string(),
  labels: z.record(z.string(), z.string()),
  value: z.number().nullable(),
  startsAt: z.iso.datetime(),
  endsAt: z.iso.datetime().nullable(),
});
export type AlarmNotificationBody = z.infer<typeof AlarmNotificationBody>;
