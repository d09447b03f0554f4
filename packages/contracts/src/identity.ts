import { z } from 'zod';
import { actionsMatching } from './actions.js';
import { idSchema, ResourceName } from './ids.js';

export const Account = z
  .object({ id: idSchema('account'), name: ResourceName, createdAt: z.iso.datetime() })
  .meta({ id: 'Account' });

export const CreateAccount = z.strictObject({ name: ResourceName });

export const SubAccount = z
  .object({
    id: idSchema('subAccount'),
    accountId: idSchema('account'),
    name: ResourceName,
    policyIds: z.array(idSchema('policy')),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'SubAccount' });

export const CreateSubAccount = z.strictObject({ name: ResourceName });

export const ActionPattern = z
  .string()
  .min(1)
  .max(128)
  .regex(/^(\*|[a-z]+:[A-Za-z*]+)$/, 'service:Action, `*` allowed, e.g. kafka:CreateTopic or kafka:*');

/** An action pattern a request sets: it must cover at least one action of the catalogue. */
const CataloguedActionPattern = ActionPattern.superRefine((pattern, ctx) => {
  if (actionsMatching(pattern).length === 0)
    ctx.addIssue({
      code: 'custom',
      message: `'${pattern}' matches no action (GET /v1/actions lists them)`,
    });
});

/** One action of the catalogue, as `GET /v1/actions` lists it. */
export const ActionEntry = z
  .object({
    name: z.string().describe('service:Action, as policies and grants name it'),
    service: z.string(),
  })
  .meta({ id: 'ActionEntry' });

export const ResourcePattern = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9._\-/*?]+$/, 'e.g. instance/ins-…/topic/orders-*');

export const PolicyEffect = z.enum(['allow', 'deny']);

export const Policy = z
  .object({
    id: idSchema('policy'),
    accountId: idSchema('account'),
    name: ResourceName,
    effect: PolicyEffect,
    actions: z.array(ActionPattern),
    resources: z.array(ResourcePattern),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Policy' });

export const CreatePolicy = z.strictObject({
  name: ResourceName,
  effect: PolicyEffect,
  actions: z.array(CataloguedActionPattern).min(1).max(50),
  resources: z.array(ResourcePattern).min(1).max(50),
});

export const ApiKey = z
  .object({
    id: idSchema('apiKey'),
    accountId: idSchema('account'),
    subAccountId: idSchema('subAccount').nullable(),
    description: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'ApiKey' });

export const CreateApiKey = z.strictObject({
  subAccountId: idSchema('subAccount').optional().describe('omit for a key of the root account itself'),
  description: z.string().max(200).optional(),
});

export const CreatedApiKey = ApiKey.extend({
  secret: z.string().describe('shown once; store it now'),
}).meta({ id: 'CreatedApiKey' });

export const CreateGrant = z.strictObject({
  granteeAccountId: idSchema('account'),
  actions: z.array(CataloguedActionPattern).min(1).max(50),
  resources: z.array(ResourcePattern).min(1).max(50),
});

export const Grant = z
  .object({
    id: idSchema('grant'),
    ownerAccountId: idSchema('account'),
    granteeAccountId: idSchema('account'),
    actions: z.array(ActionPattern),
    resources: z.array(ResourcePattern),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Grant' });

export const TokenRequest = z.strictObject({
  keyId: z.string().min(1).max(64),
  secret: z.string().min(1).max(256),
});

export const TokenResponse = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().describe('seconds'),
});

/** A key of the operator role (fleet-wide tooling); revoked keys stay listed, with the time. */
export const OperatorKey = z
  .object({
    id: idSchema('operatorKey'),
    name: z.string(),
    createdAt: z.iso.datetime(),
    revokedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'OperatorKey' });

export const CreateOperatorKey = z.strictObject({ name: z.string().min(1).max(64) });

export const CreatedOperatorKey = OperatorKey.extend({
  secret: z.string().describe('shown once; store it now'),
}).meta({ id: 'CreatedOperatorKey' });
