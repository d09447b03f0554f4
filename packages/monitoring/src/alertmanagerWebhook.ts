import { z } from 'zod';
import { ALERT_LABEL } from './alertRules.js';

/** Alertmanager's webhook payload (version 4), the fields the receiver reads. */
export const AlertmanagerPayload = z.object({
  version: z.string().optional(),
  status: z.enum(['firing', 'resolved']),
  alerts: z
    .array(
      z.object({
        status: z.enum(['firing', 'resolved']),
        labels: z.record(z.string(), z.string()),
        annotations: z.record(z.string(), z.string()).default({}),
        startsAt: z.string(),
        endsAt: z.string().optional(),
        fingerprint: z.string().min(1).max(64),
      }),
    )
    .max(1000),
});
export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayload>;
export type AlertmanagerAlert = AlertmanagerPayload['alerts'][number];

/** Labels that describe what an alarm is about (the rest are ours or Prometheus's). */
const SUBJECT_LABELS = ['topic', 'group', 'partition'] as const;

export interface AlertSubject {
  readonly policyId: string;
  readonly instanceId: string;
  readonly fingerprint: string;
  readonly startsAt: Date;
  readonly endsAt: Date | null;
  readonly labels: Record<string, string>;
  readonly value: number | null;
  readonly status: 'firing' | 'resolved';
}

/** What an alert says, or undefined for an alert that is not one of ours (no policy label). */
export function subjectOf(a: AlertmanagerAlert): AlertSubject | undefined {
  const policyId = a.labels[ALERT_LABEL.policy];
  const instanceId = a.labels[ALERT_LABEL.instance];
  const startsAt = new Date(a.startsAt);
  if (!policyId || !instanceId || Number.isNaN(startsAt.getTime())) return undefined;
  const labels: Record<string, string> = {};
  for (const l of SUBJECT_LABELS) if (a.labels[l] !== undefined) labels[l] = a.labels[l];
  const value = Number(a.annotations.value);
  const endsAt = a.endsAt ? new Date(a.endsAt) : null;
  return {
    policyId,
    instanceId,
    fingerprint: a.fingerprint,
    startsAt,
    // Alertmanager sends a zero time (year 1) for alerts still firing.
    endsAt: endsAt && endsAt.getUTCFullYear() > 1 ? endsAt : null,
    labels,
    value: a.annotations.value !== undefined && Number.isFinite(value) ? value : null,
    status: a.status,
  };
}

export type AlarmTransition = 'open' | 'resolve' | 'none';

/**
 * The state change an alert means for the event it belongs to (same policy, fingerprint and start):
 * a first firing opens it, the first resolution closes it, and Alertmanager's repeats change nothing,
 * which is what makes notifications one per state change.
 */
export function transitionOf(
  status: 'firing' | 'resolved',
  existing: 'firing' | 'resolved' | undefined,
): AlarmTransition {
  if (status === 'firing') return existing === undefined ? 'open' : 'none';
  return existing === 'firing' ? 'resolve' : 'none';
}
