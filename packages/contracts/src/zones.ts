import { z } from 'zod';

export const ZoneName = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z0-9-]+$/);

export const Zone = z
  .object({
    name: ZoneName,
    capacity: z.number().int().describe('brokers this zone can host'),
    used: z.number().int().describe('brokers placed in it now'),
  })
  .meta({ id: 'Zone' });

export const PutZone = z.object({
  capacity: z.number().int().min(0).max(10_000),
  agentUrl: z.url().describe('the zone agent serving this AZ'),
});
