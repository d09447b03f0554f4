import type { BrokerState } from '@fjord/fleet';

export type InstanceHealth = 'healthy' | 'degraded' | 'repairing';

/** A broker as its placement wants it and as its zone agent reports it (undefined: the agent does not know it). */
export interface ObservedBroker {
  readonly brokerId: number;
  readonly zone: string;
  /** The host of the zone whose agent runs it. */
  readonly host: string;
  readonly observed:
    | {
        readonly state: BrokerState;
        readonly reachable: boolean;
        readonly restarts: number;
        readonly lastError: string | null;
      }
    | undefined;
}

export interface HealthAssessment {
  readonly health: InstanceHealth;
  /** What is wrong, for people; null when healthy. */
  readonly reason: string | null;
  /** Brokers whose process is gone from their host (data and all): to be replaced. */
  readonly missing: readonly number[];
}

/**
 * An instance's health from what its zone agents report. Healthy: every broker runs and answers.
 * Repairing: something is being restarted or replaced and nothing is worse than that. Degraded:
 * a broker is down for longer (crash loop, stopped, unreachable) — the reason names each.
 */
/** How agent errors are keyed: one agent per host of a zone. */
export const agentKey = (zone: string, host: string) => `${zone}/${host}`;

export function assessHealth(
  brokers: readonly ObservedBroker[],
  /** Per agentKey: why the host's agent did not answer. */
  agentErrors: ReadonlyMap<string, string>,
): HealthAssessment {
  const problems: string[] = [];
  const repairs: string[] = [];
  const missing: number[] = [];
  for (const b of [...brokers].sort((x, y) => x.brokerId - y.brokerId)) {
    const who = `broker ${b.brokerId} (${b.zone})`;
    const agentError = agentErrors.get(agentKey(b.zone, b.host));
    if (agentError) {
      problems.push(`${who}: its zone agent does not answer (${agentError})`);
      continue;
    }
    const o = b.observed;
    if (!o) {
      missing.push(b.brokerId);
      repairs.push(`${who} is gone from its host and is being replaced`);
      continue;
    }
    switch (o.state) {
      case 'running':
        if (!o.reachable) problems.push(`${who} runs but does not answer`);
        break;
      case 'restarting':
      case 'backoff':
        repairs.push(`${who} is being restarted (${o.restarts} restart${o.restarts === 1 ? '' : 's'})`);
        break;
      case 'crash-loop':
        problems.push(
          `${who} keeps crashing; restarts paused${o.lastError ? `: ${lastLine(o.lastError)}` : ''}`,
        );
        break;
      case 'stopped':
        problems.push(`${who} is stopped`);
        break;
      case 'down':
        problems.push(`${who} is down`);
        break;
    }
  }
  if (problems.length) return { health: 'degraded', reason: [...problems, ...repairs].join('; '), missing };
  if (repairs.length) return { health: 'repairing', reason: repairs.join('; '), missing };
  return { health: 'healthy', reason: null, missing };
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1]!.slice(0, 300);
}
