import {
  AccessRoute,
  ActionPattern,
  CONNECTOR_LIMITS,
  Comparison,
  ConnectorDesiredState,
  InstanceSpec,
  KAFKA_VERSIONS,
  MAX_BROKERS,
  MAX_REPLICATION_FACTOR,
  MetricScope,
  MirrorConfig,
  MirrorSecrets,
  NewAclBinding,
  PolicyEffect,
  PostgresSinkConfig,
  PostgresSinkSecrets,
  ResourceName,
  ResourcePattern,
  S3SinkConfig,
  S3SinkSecrets,
  SaslMechanism,
  SaslUserName,
  Severity,
  TopicConfigs,
  TopicName,
  ZoneName,
} from '@fjord/contracts';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * What `fjord.yaml` declares. A field left out is not managed: the service's default applies on
 * create and whatever it is later is no drift. Every object is strict, so a misspelt field is an
 * error naming it rather than a field silently ignored.
 */
const Topic = z.strictObject({
  name: TopicName,
  partitions: z.number().int().min(1).max(1000).optional(),
  replicationFactor: z.number().int().min(1).max(MAX_REPLICATION_FACTOR).optional(),
  configs: TopicConfigs.optional().describe('the overrides, whole: a key left out is removed'),
});

const User = z.strictObject({
  name: SaslUserName,
  password: z.string().min(8).max(256).describe('write-only: set on create, never read back'),
  mechanism: SaslMechanism.optional(),
});

const AlarmPolicy = z.strictObject({
  name: ResourceName,
  metric: z.string().min(1),
  scope: MetricScope.optional(),
  comparison: Comparison,
  threshold: z.number().finite(),
  durationSeconds: z.number().int().min(0).max(86_400).optional(),
  severity: Severity.optional(),
  channelIds: z.array(z.string()).max(10).optional(),
  enabled: z.boolean().optional(),
  muted: z.boolean().optional(),
});

/**
 * A connector: `config` is whole (as the API takes it; defaults filled in), secrets write-only
 * (`${env:NAME}` references). Left out, `tasksMax` and `desiredState` are not managed.
 */
const connectorFields = {
  name: ResourceName,
  tasksMax: z.number().int().min(1).max(CONNECTOR_LIMITS.maxTasks).optional(),
  desiredState: ConnectorDesiredState.optional(),
};
const Connector = z.discriminatedUnion('type', [
  z.strictObject({
    ...connectorFields,
    type: z.literal('s3-sink'),
    config: S3SinkConfig,
    secrets: S3SinkSecrets,
  }),
  z.strictObject({
    ...connectorFields,
    type: z.literal('mirror'),
    config: MirrorConfig,
    secrets: MirrorSecrets.default({}),
  }),
  z.strictObject({
    ...connectorFields,
    type: z.literal('postgres-sink'),
    config: PostgresSinkConfig,
    secrets: PostgresSinkSecrets.default({}),
  }),
]);

const Instance = z.strictObject({
  name: ResourceName,
  zones: z.array(ZoneName).min(1).max(3),
  brokerCount: z.number().int().min(1).max(MAX_BROKERS).optional(),
  spec: InstanceSpec.partial().strict().optional(),
  defaultReplicationFactor: z.number().int().min(1).max(MAX_REPLICATION_FACTOR).optional(),
  kafkaVersion: z.enum(KAFKA_VERSIONS).optional(),
  accessRoutes: z.array(AccessRoute).min(1).max(2).optional(),
  deletionProtection: z.boolean().optional(),
  topics: z.array(Topic).default([]),
  users: z.array(User).default([]),
  acls: z.array(NewAclBinding).default([]),
  alarmPolicies: z.array(AlarmPolicy).default([]),
  connectors: z.array(Connector).default([]),
});

const Policy = z.strictObject({
  name: ResourceName,
  effect: PolicyEffect,
  actions: z.array(ActionPattern).min(1).max(50),
  resources: z.array(ResourcePattern).min(1).max(50),
});

const SubAccount = z.strictObject({
  name: ResourceName,
  policies: z.array(ResourceName).default([]).describe('policy names, of this file or already there'),
});

export const DesiredState = z.strictObject({
  instances: z.array(Instance).default([]),
  policies: z.array(Policy).default([]),
  subAccounts: z.array(SubAccount).default([]),
});
export type DesiredState = z.infer<typeof DesiredState>;
export type DesiredInstance = DesiredState['instances'][number];
export type DesiredTopic = z.infer<typeof Topic>;
export type DesiredUser = z.infer<typeof User>;
export type DesiredAlarmPolicy = z.infer<typeof AlarmPolicy>;
export type DesiredConnector = z.infer<typeof Connector>;
export type DesiredPolicy = z.infer<typeof Policy>;
export type DesiredSubAccount = z.infer<typeof SubAccount>;

export class DesiredStateError extends Error {}

const ENV_REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** `${env:NAME}` anywhere in a string becomes NAME's value; a missing variable is an error naming the field. */
function resolveEnv(value: unknown, env: NodeJS.ProcessEnv, path: string): unknown {
  if (typeof value === 'string')
    return value.replace(ENV_REFERENCE, (_, name: string) => {
      const v = env[name];
      if (v === undefined) throw new DesiredStateError(`${path}: environment variable ${name} is not set`);
      return v;
    });
  if (Array.isArray(value)) return value.map((v, i) => resolveEnv(v, env, `${path}/${i}`));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveEnv(v, env, `${path}/${k}`)]));
  return value;
}

function duplicates(names: readonly string[]): string[] {
  return names.filter((n, i) => names.indexOf(n) !== i);
}

/** Parses and checks `fjord.yaml` text. Pure: the environment is passed in. */
export function parseDesiredState(text: string, env: NodeJS.ProcessEnv): DesiredState {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (e) {
    throw new DesiredStateError(`not YAML: ${(e as Error).message}`);
  }
  const parsed = DesiredState.safeParse(resolveEnv(raw, env, ''));
  if (!parsed.success)
    throw new DesiredStateError(
      parsed.error.issues.map((i) => `/${i.path.join('/')}: ${i.message}`).join('\n'),
    );
  const state = parsed.data;
  const dupes = [
    ...duplicates(state.instances.map((i) => `instance ${i.name}`)),
    ...duplicates(state.policies.map((p) => `policy ${p.name}`)),
    ...duplicates(state.subAccounts.map((s) => `sub-account ${s.name}`)),
    ...state.instances.flatMap((i) => [
      ...duplicates(i.topics.map((t) => `topic ${t.name} of ${i.name}`)),
      ...duplicates(i.users.map((u) => `user ${u.name} of ${i.name}`)),
      ...duplicates(i.alarmPolicies.map((a) => `alarm policy ${a.name} of ${i.name}`)),
      ...duplicates(i.connectors.map((c) => `connector ${c.name} of ${i.name}`)),
    ]),
  ];
  if (dupes.length > 0) throw new DesiredStateError(`declared twice: ${[...new Set(dupes)].join(', ')}`);
  return state;
}
