/**
 * When a supervisor restarts a broker that died: at once the first time, then with exponential
 * backoff; a broker that keeps dying (a crash loop) is left down for a pause, then tried again,
 * so a broken broker neither spins the host nor stays down forever. Pure: times come in.
 */
export interface RestartPolicy {
  /** Delay before the second restart within the window; doubled per further restart. */
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
  /** This many restarts within `windowMs` is a crash loop. */
  readonly crashLoopRestarts: number;
  readonly windowMs: number;
  /** How long a crash-looping broker is left down before the next try. */
  readonly crashLoopPauseMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  baseBackoffMs: 1000,
  maxBackoffMs: 60_000,
  crashLoopRestarts: 5,
  windowMs: 5 * 60_000,
  crashLoopPauseMs: 5 * 60_000,
};

/** Restarts of one broker (their times) within the policy's window. */
export type RestartHistory = readonly number[];

export type RestartDecision =
  | { readonly kind: 'restart' }
  | { readonly kind: 'backoff'; readonly untilMs: number }
  | { readonly kind: 'crash-loop'; readonly untilMs: number };

export function decideRestart(history: RestartHistory, now: number, p: RestartPolicy): RestartDecision {
  const recent = history.filter((t) => now - t < p.windowMs);
  if (recent.length === 0) return { kind: 'restart' };
  const last = recent[recent.length - 1]!;
  if (recent.length >= p.crashLoopRestarts) {
    const untilMs = last + p.crashLoopPauseMs;
    return now >= untilMs ? { kind: 'restart' } : { kind: 'crash-loop', untilMs };
  }
  const untilMs = last + Math.min(p.maxBackoffMs, p.baseBackoffMs * 2 ** (recent.length - 1));
  return now >= untilMs ? { kind: 'restart' } : { kind: 'backoff', untilMs };
}

/** The history after a restart at `now`, keeping only what the window still needs. */
export function recordRestart(history: RestartHistory, now: number, p: RestartPolicy): RestartHistory {
  // After a crash-loop pause the count starts over, so one more failure does not re-enter the pause at once.
  const recent = history.filter((t) => now - t < p.windowMs);
  const afterPause = recent.length >= p.crashLoopRestarts;
  return [...(afterPause ? [] : recent), now];
}
