import { RefusedTarget } from '@fjord/egress';

/**
 * The reason a failed task shows. A refused target is the reason wherever it sits: the Kafka
 * client wraps a socket's error in its own ("Cannot connect to any broker."), with the socket's
 * error as a cause or among `errors`.
 */
export function taskFailureReason(e: unknown): string {
  return findRefusal(e, 0)?.message ?? ((e as Error)?.message || String(e));
}

function findRefusal(e: unknown, depth: number): RefusedTarget | undefined {
  if (e instanceof RefusedTarget) return e;
  if (!e || typeof e !== 'object' || depth > 8) return undefined;
  const { cause, errors } = e as { cause?: unknown; errors?: unknown };
  const nested = [cause, ...(Array.isArray(errors) ? errors : [])];
  for (const n of nested) {
    const found = findRefusal(n, depth + 1);
    if (found) return found;
  }
  return undefined;
}
