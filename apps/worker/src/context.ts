import type { BrokerPlacement, Operation, PrismaClient } from '@fjord/db';
import { BrokerConfigAdmin, type FleetDriver, InstanceAdmin, instanceAdminCredential } from '@fjord/fleet';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ClusterSettings } from './brokerSpec.js';
import type { Steps } from './steps.js';

export interface WorkerSettings extends ClusterSettings {
  readonly adminSecret: string;
  /** How long to wait for brokers to answer / replicas to catch up. */
  readonly readyTimeoutMs: number;
  /**
   * Rolling work (restarts, resizes) pauses this long between brokers once every replica is back in
   * sync and leaders are on their preferred replicas, so clients refresh metadata and reconnect
   * before the next broker goes (FJORD_ROLLING_SETTLE_MS, default 10 s).
   */
  readonly rollingSettleMs?: number;
  /**
   * Replication throttle during reassignments, bytes/s per broker and direction
   * (FJORD_REASSIGNMENT_THROTTLE_BYTES, default 50 MB/s; 0: unthrottled).
   */
  readonly reassignmentThrottleBytes?: number;
  /** Life of the brokers' TLS certificates (FJORD_BROKER_CERT_LIFETIME_MS, default 90 days); renewed at two thirds. */
  readonly brokerCertificateLifetimeMs?: number;
}

export interface FlowContext {
  readonly prisma: PrismaClient;
  readonly fleet: FleetDriver;
  readonly steps: Steps;
  readonly op: Operation;
  readonly log: Logger;
  readonly settings: WorkerSettings;
}

/** An operation that cannot succeed however often it is retried (the operation fails at once). */
export class PermanentError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The operation's input parsed with its contract schema (@fjord/contracts); an input that does
 * not match can never succeed, so it fails the operation for good.
 */
export function operationInput<S extends z.ZodType>(ctx: FlowContext, schema: S): z.infer<S> {
  const parsed = schema.safeParse(ctx.op.input);
  if (!parsed.success)
    throw new PermanentError(
      'invalid_input',
      `operation ${ctx.op.id} (${ctx.op.kind}) has an invalid input: ${z.prettifyError(parsed.error)}`,
    );
  return parsed.data;
}

export const portsOf = (b: BrokerPlacement) => b.ports as Record<string, number>;

export function adminOf(
  ctx: FlowContext,
  instanceId: string,
  brokers: readonly BrokerPlacement[],
): InstanceAdmin {
  return new InstanceAdmin(
    brokers.map((b) => `${b.host}:${portsOf(b).CONTROL}`),
    { sasl: instanceAdminCredential(instanceId, ctx.settings.adminSecret), clientId: 'fjord-worker' },
  );
}

/** Dynamic configs of one broker, through its own CONTROL listener. */
export function brokerConfigAdminOf(
  ctx: { readonly settings: Pick<WorkerSettings, 'adminSecret'> },
  instanceId: string,
  b: BrokerPlacement,
): BrokerConfigAdmin {
  return new BrokerConfigAdmin({
    host: b.host,
    port: portsOf(b).CONTROL!,
    credential: instanceAdminCredential(instanceId, ctx.settings.adminSecret),
  });
}

/**
 * Admin clients that together reach every copy of the instance's metadata: one for a cluster, one
 * per broker while brokers run standalone (each then holds its own topics).
 */
export async function withInstanceAdmins<T>(
  ctx: FlowContext,
  instanceId: string,
  brokers: readonly BrokerPlacement[],
  fn: (admins: InstanceAdmin[]) => Promise<T>,
): Promise<T> {
  const running = brokers.filter((b) => portsOf(b).CONTROL).sort((a, b) => a.brokerId - b.brokerId);
  const probe = adminOf(ctx, instanceId, running.slice(0, 1));
  let admins: InstanceAdmin[];
  try {
    const seen = await probe.clusterBrokerIds();
    admins =
      seen.length >= running.length
        ? [adminOf(ctx, instanceId, running)]
        : running.map((b) => adminOf(ctx, instanceId, [b]));
  } finally {
    await probe.close();
  }
  try {
    return await fn(admins);
  } finally {
    await Promise.all(admins.map((a) => a.close()));
  }
}

export async function until(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  everyMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `${what} did not happen within ${timeoutMs} ms${lastError ? `: ${(lastError as Error).message}` : ''}`,
  );
}
