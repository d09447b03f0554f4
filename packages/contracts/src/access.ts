import { z } from 'zod';

export const SaslMechanism = z.enum(['SCRAM-SHA-256', 'SCRAM-SHA-512']);

/** The SCRAM users the service keeps on every instance: the control plane's and the brokers'. */
export const RESERVED_SASL_USERS: ReadonlySet<string> = new Set(['fjord-admin', 'fjord-broker']);

/** Kafka principal names: what SASL usernames may be. */
export const SaslUserName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' and '-'")
  .refine((n) => !RESERVED_SASL_USERS.has(n), 'fjord-admin and fjord-broker are the service’s own users');

export const SaslUser = z
  .object({
    name: z.string(),
    mechanisms: z.array(SaslMechanism),
    status: z.enum(['active', 'creating', 'deleting']),
  })
  .meta({ id: 'SaslUser' });

export const CreateSaslUser = z.strictObject({
  name: SaslUserName,
  password: z
    .string()
    .min(8)
    .max(256)
    .describe('write-only; sent salted to the brokers, never stored in plain'),
  mechanism: SaslMechanism.default('SCRAM-SHA-512'),
});

/** `POST …/users/{user}/verify-password`: is this the user's password (the plan's drift check)? */
export const VerifySaslPassword = z.strictObject({
  password: z.string().min(1).max(256),
  mechanism: SaslMechanism.optional().describe("the mechanism to try (the user's first when absent)"),
});

/** The answer of a secret check: never more than whether it matched. */
export const SecretCheck = z.object({ matches: z.boolean() }).meta({ id: 'SecretCheck' });

export const ACL_RESOURCE_TYPES = ['topic', 'group', 'cluster', 'transactionalId'] as const;
export const ACL_OPERATIONS = [
  'all',
  'read',
  'write',
  'create',
  'delete',
  'alter',
  'describe',
  'clusterAction',
  'describeConfigs',
  'alterConfigs',
  'idempotentWrite',
] as const;

/** One ACL binding, Kafka's model. */
export const AclBinding = z
  .object({
    resourceType: z.enum(ACL_RESOURCE_TYPES),
    resourceName: z.string().min(1).max(249).describe("'kafka-cluster' for cluster; '*' for any"),
    patternType: z.enum(['literal', 'prefixed']).default('literal'),
    principal: z
      .string()
      .regex(/^User:[A-Za-z0-9._*-]+$/, 'User:<name> or User:*')
      .max(80),
    host: z.string().min(1).max(64).default('*'),
    operation: z.enum(ACL_OPERATIONS),
    permission: z.enum(['allow', 'deny']).default('allow'),
  })
  .meta({ id: 'AclBinding' });
export type AclBinding = z.infer<typeof AclBinding>;

/** Kafka names its one cluster resource so; a cluster ACL on any other name matches nothing. */
export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';

/** An ACL binding as a request names it (to add or remove): no unknown fields. */
export const AclBindingRequest = AclBinding.strict();

/** A binding to add: also one the brokers would accept. */
export const NewAclBinding = AclBindingRequest.superRefine((acl, ctx) => {
  if (acl.resourceType === 'cluster' && acl.resourceName !== CLUSTER_RESOURCE_NAME)
    ctx.addIssue({
      code: 'custom',
      path: ['resourceName'],
      message: `a cluster ACL names the resource '${CLUSTER_RESOURCE_NAME}'`,
    });
});

export const AclFilterQuery = z.object({
  resourceType: z.enum(ACL_RESOURCE_TYPES).optional(),
  resourceName: z.string().max(249).optional(),
  principal: z.string().max(80).optional(),
});

export const ConsumerGroup = z
  .object({
    groupId: z.string(),
    state: z.string().describe('Empty, Stable, PreparingRebalance, CompletingRebalance, Dead'),
    protocol: z.string(),
    members: z.array(
      z.object({
        memberId: z.string(),
        clientId: z.string(),
        clientHost: z.string(),
        assignments: z.array(z.string()),
      }),
    ),
    lag: z
      .array(
        z.object({
          topic: z.string(),
          partition: z.number().int(),
          committedOffset: z.number().int().nullable(),
          endOffset: z.number().int(),
          lag: z.number().int().nullable(),
        }),
      )
      .describe('per partition with a committed offset'),
  })
  .meta({ id: 'ConsumerGroup' });

export const ConsumerGroupSummary = z.object({ groupId: z.string(), protocolType: z.string() });

export const ResetOffsets = z
  .strictObject({
    topic: z.string().min(1).max(249),
    to: z.enum(['earliest', 'latest', 'timestamp', 'offset']),
    timestamp: z.number().int().min(0).optional().describe("epoch ms, for to='timestamp'"),
    offset: z.number().int().min(0).optional().describe("for to='offset' (every partition)"),
  })
  .superRefine((v, ctx) => {
    if (v.to === 'timestamp' && v.timestamp === undefined)
      ctx.addIssue({ code: 'custom', path: ['timestamp'], message: "required when to is 'timestamp'" });
    if (v.to === 'offset' && v.offset === undefined)
      ctx.addIssue({ code: 'custom', path: ['offset'], message: "required when to is 'offset'" });
  });
export type ResetOffsets = z.infer<typeof ResetOffsets>;
