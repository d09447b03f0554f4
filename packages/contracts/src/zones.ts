import { z } from 'zod';

export const ZoneName = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z0-9-]+$/);

export const Zone = z
  .object({
    name: ZoneName,
    capacity: z.number().int().describe('brokers this zone can host: the capacity of its active hosts'),
    used: z.number().int().describe('brokers placed in it now'),
  })
  .meta({ id: 'Zone' });
export type Zone = z.infer<typeof Zone>;

/** Registers the zone and its `default` host (a zone with one agent needs nothing else). */
export const PutZone = z.strictObject({
  capacity: z.number().int().min(0).max(10_000).describe("the default host's capacity"),
  agentUrl: z.url().describe("the default host's zone agent"),
});

/** A host's name within its zone (`default` is the one `PUT /v1/zones/{zone}` registers). */
export const HostId = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9-]+$/);

export const HostState = z.enum(['active', 'draining']);
export type HostState = z.infer<typeof HostState>;

export const Host = z
  .object({
    zone: ZoneName,
    id: HostId,
    agentUrl: z.string().describe('its zone agent'),
    capacity: z.number().int().describe('brokers this host can run'),
    used: z.number().int().describe('brokers placed on it now'),
    state: HostState.describe('draining: takes no new brokers; its brokers are being moved away'),
  })
  .meta({ id: 'Host' });
export type Host = z.infer<typeof Host>;

export const PutHost = z.strictObject({
  capacity: z.number().int().min(0).max(10_000),
  agentUrl: z.url().describe('the zone agent on this host'),
  state: HostState.optional().describe('active again after maintenance; a new host starts active'),
});

/** Input of a `host.drain` operation. */
export const HostDrainInput = z.object({ zone: ZoneName, host: HostId });
export type HostDrainInput = z.infer<typeof HostDrainInput>;
