import type { AlarmEvent, AlarmPolicy, MetricName, MetricScope, NotificationChannel } from '@fjord/contracts';
import type {
  AlarmEvent as AlarmEventRow,
  AlarmNotification as AlarmNotificationRow,
  AlarmPolicy as AlarmPolicyRow,
  NotificationChannel as ChannelRow,
} from '@fjord/db';

export function alarmPolicyView(p: AlarmPolicyRow): AlarmPolicy {
  return {
    id: p.id,
    instanceId: p.instanceId,
    name: p.name,
    metric: p.metric as MetricName,
    scope: p.scope as MetricScope,
    comparison: p.comparison as AlarmPolicy['comparison'],
    threshold: p.threshold,
    durationSeconds: p.durationSeconds,
    severity: p.severity as AlarmPolicy['severity'],
    channelIds: p.channelIds,
    enabled: p.enabled,
    muted: p.muted,
    system: p.system,
    version: p.version,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

export function alarmEventView(e: AlarmEventRow & { notifications: AlarmNotificationRow[] }): AlarmEvent {
  return {
    id: e.id,
    policyId: e.policyId,
    instanceId: e.instanceId,
    status: e.status as AlarmEvent['status'],
    severity: e.severity as AlarmEvent['severity'],
    labels: e.labels as Record<string, string>,
    value: e.value,
    startsAt: e.startsAt.toISOString(),
    endsAt: e.endsAt?.toISOString() ?? null,
    deliveries: e.notifications.map((n) => ({
      channelId: n.channelId,
      state: n.state as 'firing' | 'resolved',
      status: n.status as 'pending' | 'delivered' | 'failed',
      attempts: n.attempts,
      lastError: n.lastError,
      responseStatus: n.responseStatus,
      deliveredAt: n.deliveredAt?.toISOString() ?? null,
    })),
  };
}

export function channelView(c: ChannelRow): NotificationChannel {
  return { id: c.id, name: c.name, type: 'webhook', url: c.url, createdAt: c.createdAt.toISOString() };
}
