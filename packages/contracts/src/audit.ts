import { z } from 'zod';

export const AuditOutcome = z.enum(['succeeded', 'denied', 'failed']);
export type AuditOutcome = z.infer<typeof AuditOutcome>;

export const AuditEvent = z
  .object({
    id: z.string().describe("the event's number in its account's chain (1, 2, …)"),
    accountId: z.string().nullable(),
    actor: z.string(),
    action: z.string(),
    resource: z.string(),
    outcome: AuditOutcome,
    at: z.iso.datetime(),
    details: z.record(z.string(), z.unknown()),
    prevHash: z
      .string()
      .nullable()
      .describe('hash of the previous event of this account (null: before chains)'),
    hash: z.string().nullable().describe('SHA-256 over this event and prevHash; see `fjord audit verify`'),
  })
  .meta({ id: 'AuditEvent' });
