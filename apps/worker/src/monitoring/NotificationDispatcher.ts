import type { AlarmNotificationBody, MetricName } from '@fjord/contracts';
import type { PrismaClient } from '@fjord/db';
import { type AllowedNetworks, RefusedTarget } from '@fjord/egress';
import { unseal } from '@fjord/fleet';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from '@fjord/monitoring';
import type { Logger } from 'pino';
import { postWebhook } from './webhookPost.js';

export interface DispatcherOptions {
  /** Attempts before a delivery is given up as failed. */
  readonly maxAttempts: number;
  /** First retry delay; doubled per attempt up to `maxBackoffMs`. */
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
  /** How long one webhook call may take. */
  readonly timeoutMs: number;
  /** Non-public networks webhooks may reach (public unicast addresses always may). */
  readonly allowedNetworks: AllowedNetworks;
}

export const DEFAULT_DISPATCHER_OPTIONS: DispatcherOptions = {
  maxAttempts: 10,
  baseBackoffMs: 1000,
  maxBackoffMs: 5 * 60_000,
  timeoutMs: 10_000,
  allowedNetworks: [],
};

/** The delay before attempt `attempts + 1` (exponential, capped). */
export function backoffMs(attempts: number, o: DispatcherOptions): number {
  return Math.min(o.maxBackoffMs, o.baseBackoffMs * 2 ** Math.max(0, attempts - 1));
}

interface Claimed {
  id: string;
  eventId: string;
  channelId: string;
  state: 'firing' | 'resolved';
  attempts: number;
}

/**
 * Sends alarm notifications from the outbox table: claims due rows (SKIP LOCKED, with a lease so
 * two workers never send the same row at once), POSTs each to its webhook signed with the
 * channel's secret, and records the outcome — delivered, retried later with backoff, or failed
 * after the last attempt. Receivers may see a retry of a delivery they did take (a lost answer);
 * `X-Fjord-Delivery` lets them drop it.
 */
export class NotificationDispatcher {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly adminSecret: string,
    private readonly log: Logger,
    private readonly o: DispatcherOptions = DEFAULT_DISPATCHER_OPTIONS,
    private readonly onOutcome: (outcome: 'delivered' | 'retry' | 'failed') => void = () => {},
  ) {}

  /** Sends what is due; resolves to how many rows it handled. */
  async dispatchDue(limit = 20): Promise<number> {
    const leaseSeconds = Math.ceil((this.o.timeoutMs * 3) / 1000);
    const claimed = await this.prisma.$queryRaw<Claimed[]>`
      UPDATE "AlarmNotification"
         SET "attempts" = "attempts" + 1,
             "nextAttemptAt" = now() + make_interval(secs => ${leaseSeconds})
       WHERE "id" IN (SELECT "id" FROM "AlarmNotification"
                       WHERE "status" = 'pending' AND "nextAttemptAt" <= now()
                       ORDER BY "nextAttemptAt" LIMIT ${limit}
                       FOR UPDATE SKIP LOCKED)
      RETURNING "id", "eventId", "channelId", "state", "attempts"`;
    await Promise.all(claimed.map((n) => this.deliver(n)));
    return claimed.length;
  }

  private async deliver(n: Claimed): Promise<void> {
    const [event, channel] = await Promise.all([
      this.prisma.alarmEvent.findUnique({ where: { id: n.eventId }, include: { policy: true } }),
      this.prisma.notificationChannel.findUnique({ where: { id: n.channelId } }),
    ]);
    if (!event || !channel || channel.deletedAt) {
      await this.record(n, { ok: false, final: true, error: 'the channel or the event no longer exists' });
      return;
    }
    const body: AlarmNotificationBody = {
      type: 'alarm',
      state: n.state,
      eventId: event.id,
      policy: {
        id: event.policy.id,
        name: event.policy.name,
        metric: event.policy.metric as MetricName,
        severity: event.policy.severity as AlarmNotificationBody['policy']['severity'],
      },
      instanceId: event.instanceId,
      labels: event.labels as Record<string, string>,
      value: event.value,
      startsAt: event.startsAt.toISOString(),
      endsAt: event.endsAt?.toISOString() ?? null,
    };
    const text = JSON.stringify(body);
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const status = await postWebhook(
        channel.url,
        {
          'content-type': 'application/json',
          'user-agent': 'fjord-alarms/1',
          'x-fjord-delivery': n.id,
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signWebhook(unseal(channel.sealedSecret, this.adminSecret), timestamp, text),
        },
        text,
        { timeoutMs: this.o.timeoutMs, allowed: this.o.allowedNetworks },
      );
      if (status >= 200 && status < 300) await this.record(n, { ok: true, status });
      else await this.record(n, { ok: false, status, error: `answered ${status}` });
    } catch (err) {
      const refused = err instanceof RefusedTarget;
      await this.record(n, {
        ok: false,
        error: refused ? `refused: ${(err as Error).message}` : (err as Error).message,
        final: refused,
      });
    }
  }

  private async record(
    n: Claimed,
    r: { ok: boolean; status?: number; error?: string; final?: boolean },
  ): Promise<void> {
    const responseStatus = r.status ?? null;
    if (r.ok) {
      this.onOutcome('delivered');
      await this.prisma.alarmNotification.update({
        where: { id: n.id },
        data: { status: 'delivered', deliveredAt: new Date(), responseStatus, lastError: null },
      });
      return;
    }
    const final = r.final || n.attempts >= this.o.maxAttempts;
    this.onOutcome(final ? 'failed' : 'retry');
    this.log.warn(
      { notification: n.id, attempts: n.attempts, error: r.error, final },
      'alarm notification not delivered',
    );
    await this.prisma.alarmNotification.update({
      where: { id: n.id },
      data: {
        status: final ? 'failed' : 'pending',
        lastError: (r.error ?? 'failed').slice(0, 500),
        responseStatus,
        nextAttemptAt: new Date(Date.now() + backoffMs(n.attempts, this.o)),
      },
    });
  }
}
