import { newId } from '@fjord/contracts';
import type { PrismaClient } from '@fjord/db';
import { type AlertmanagerPayload, subjectOf, transitionOf } from '@fjord/monitoring';

export interface ReceiveResult {
  readonly opened: number;
  readonly resolved: number;
  readonly ignored: number;
}

/**
 * Alertmanager's notifications become alarm events. Each alert belongs to one event (policy,
 * fingerprint, start); only a state change (first firing, first resolution) writes the event and
 * queues one notification per channel of the policy (none while it is muted) in the same
 * transaction. Alertmanager's repeats and retries therefore notify no one twice.
 */
export async function receiveAlerts(
  prisma: PrismaClient,
  payload: AlertmanagerPayload,
): Promise<ReceiveResult> {
  let opened = 0;
  let resolved = 0;
  let ignored = 0;
  for (const alert of payload.alerts) {
    const s = subjectOf(alert);
    if (!s) {
      ignored++;
      continue;
    }
    const outcome = await prisma.$transaction(async (tx) => {
      const policy = await tx.alarmPolicy.findUnique({ where: { id: s.policyId } });
      if (!policy || policy.instanceId !== s.instanceId) return 'none' as const;
      // Lock the event (if any) so two deliveries of the same alert cannot both change it.
      const rows = await tx.$queryRaw<{ id: string; status: 'firing' | 'resolved' }[]>`
        SELECT "id", "status" FROM "AlarmEvent"
        WHERE "policyId" = ${s.policyId} AND "fingerprint" = ${s.fingerprint} AND "startsAt" = ${s.startsAt}
        FOR UPDATE`;
      const existing = rows[0];
      const t = transitionOf(s.status, existing?.status);
      if (t === 'none') return t;
      const channels = policy.muted ? [] : policy.channelIds;
      if (t === 'open') {
        const event = await tx.alarmEvent.create({
          data: {
            id: newId('alarmEvent'),
            accountId: policy.accountId,
            instanceId: policy.instanceId,
            policyId: policy.id,
            fingerprint: s.fingerprint,
            status: 'firing',
            severity: policy.severity,
            labels: s.labels,
            value: s.value,
            startsAt: s.startsAt,
          },
        });
        await tx.alarmNotification.createMany({
          data: channels.map((channelId) => ({
            id: newId('notification'),
            eventId: event.id,
            channelId,
            state: 'firing',
          })),
          skipDuplicates: true,
        });
      } else {
        await tx.alarmEvent.update({
          where: { id: existing!.id },
          data: { status: 'resolved', endsAt: s.endsAt ?? new Date() },
        });
        await tx.alarmNotification.createMany({
          data: channels.map((channelId) => ({
            id: newId('notification'),
            eventId: existing!.id,
            channelId,
            state: 'resolved',
          })),
          skipDuplicates: true,
        });
      }
      return t;
    });
    if (outcome === 'open') opened++;
    else if (outcome === 'resolve') resolved++;
    else ignored++;
  }
  return { opened, resolved, ignored };
}
