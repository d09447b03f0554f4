import { z } from 'zod';

export const AuditEvent = z
  .object({
    id: z.string(),
    accountId: z.string().nullable(),
    actor: z.string(),
    action: z.string(),
    resource: z.string(),
    at: z.iso.datetime(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEvent' });
