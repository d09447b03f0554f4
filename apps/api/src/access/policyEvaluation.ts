import { globMatches } from './patterns.js';

export interface PolicyStatement {
  readonly effect: 'allow' | 'deny';
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

/**
 * Kafka-console-style evaluation: an explicit deny anywhere wins, otherwise any matching allow
 * allows, otherwise the request is denied (nothing is allowed by default).
 */
export function evaluate(statements: readonly PolicyStatement[], action: string, resource: string): Decision {
  let allowed = false;
  for (const s of statements) {
    if (!s.actions.some((a) => globMatches(a, action))) continue;
    if (!s.resources.some((r) => globMatches(r, resource))) continue;
    if (s.effect === 'deny') return 'explicit-deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}
