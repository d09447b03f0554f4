import type { ErrorCodeName } from '@fjord/protocol';
import type { Partition } from './Partition.js';

export interface ReplicationWait {
  readonly partition: Partition;
  /** The offset after the last record appended: replicated once the high watermark reaches it. */
  readonly requiredOffset: number;
  readonly minInsyncReplicas: number;
}

/** Per wait: undefined once replicated, or the error to answer with. */
export type ReplicationOutcome = ErrorCodeName | undefined;

/**
 * acks=all (Kafka's DelayedProduce): a produce is answered once every partition it wrote to
 * has its records on all in-sync replicas, or lost leadership, or `timeoutMs` passed
 * (REQUEST_TIMED_OUT: the records may still commit later). Answers at once, without a timer,
 * when everything is already replicated (a single-replica ISR).
 */
export function awaitReplication(
  waits: readonly ReplicationWait[],
  timeoutMs: number,
): ReplicationOutcome[] | Promise<ReplicationOutcome[]> {
  const outcomes: (ReplicationOutcome | 'pending')[] = waits.map(() => 'pending');
  const check = (i: number): boolean => {
    if (outcomes[i] !== 'pending') return true;
    const w = waits[i]!;
    const r = w.partition.checkReplicated(w.requiredOffset, w.minInsyncReplicas);
    if (!r.done) return false;
    outcomes[i] = r.error;
    return true;
  };
  let pending = 0;
  for (let i = 0; i < waits.length; i++) if (!check(i)) pending++;
  if (pending === 0) return outcomes as ReplicationOutcome[];
  return new Promise((resolve) => {
    const unsubscribe: (() => void)[] = [];
    const finish = () => {
      clearTimeout(timer);
      for (const u of unsubscribe) u();
      resolve(outcomes.map((o) => (o === 'pending' ? 'REQUEST_TIMED_OUT' : o)));
    };
    const timer = setTimeout(finish, Math.max(0, timeoutMs));
    waits.forEach((w, i) => {
      if (outcomes[i] !== 'pending') return;
      unsubscribe.push(
        w.partition.onAdvance(() => {
          if (outcomes[i] !== 'pending' || !check(i)) return;
          if (--pending === 0) finish();
        }),
      );
    });
  });
}
