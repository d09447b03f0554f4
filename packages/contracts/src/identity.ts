import { z } from 'zod';
import { idSchema, ResourceName } from './ids.js';

export const Account = z
  .object({ id: idSchema('account'), name: ResourceName, createdAt: z.iso.datetime() })
  .meta({ id: 'Account' });

export const CreateAccount = z.object({ name: ResourceName });

export const SubAccount = z
  .object({
    id: idSchema('subAccount'),
    accountId: idSchema('account'),
    name: ResourceName,
    policyIds: z.array(idSchema('policy')),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'SubAccount' });

export const CreateSubAccount = z.object({ name: ResourceName });

export const ActionPattern = z
  .string()
  .min(1)
  .max(128)
  .regex(/^(\*|[a-z]+:[A-Za-z*]+)$/, 'service:Action, `*` allowed, e.g. kafka:CreateTopic or kafka:*');

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

export const CreatePolicy = z.object({
  name: ResourceName,
  effect: PolicyEffect,
  actions: z.array(ActionPattern).min(1).max(50),
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

export const CreateApiKey = z.object({
  subAccountId: idSchema('subAccount').optional().describe('omit for a key of the root account itself'),
  description: z.string().max(200).optional(),
});

export const CreatedApiKey = ApiKey.extend({
  secret: z.string().describe('shown once; store it now'),
}).meta({ id: 'CreatedApiKey' });

export const CreateGrant = z.object({
  granteeAccountId: idSchema('account'),
  actions: z.array(ActionPattern).min(1).max(50),
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

export const TokenRequest = z.object({
  keyId: z.string().min(1).max(64),
  secret: z.string().min(1).max(256),
});

export const TokenResponse = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().describe('seconds'),
});
