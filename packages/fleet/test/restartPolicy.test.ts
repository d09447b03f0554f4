import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideRestart, DEFAULT_RESTART_POLICY as P, recordRestart } from '../src/process/restartPolicy.js';

describe('restart policy', () => {
  it('restarts at once, then backs off exponentially, then pauses a crash loop', () => {
    let h = recordRestart([], 0, P);
    expect(decideRestart(h, 500, P)).toEqual({ kind: 'backoff', untilMs: 1000 });
    expect(decideRestart(h, 1000, P)).toEqual({ kind: 'restart' });
    h = recordRestart(h, 1000, P);
    expect(decideRestart(h, 1500, P)).toEqual({ kind: 'backoff', untilMs: 3000 });
    h = recordRestart(recordRestart(recordRestart(h, 3000, P), 7000, P), 15_000, P);
    expect(h).toHaveLength(5);
    expect(decideRestart(h, 16_000, P)).toEqual({ kind: 'crash-loop', untilMs: 15_000 + P.crashLoopPauseMs });
    const after = 15_000 + P.crashLoopPauseMs;
    expect(decideRestart(h, after, P)).toEqual({ kind: 'restart' });
    // The count starts over after the pause.
    expect(recordRestart(h, after, P)).toEqual([after]);
  });

  it('forgets restarts older than the window', () => {
    expect(decideRestart([0, 1000], P.windowMs + 1000, P)).toEqual({ kind: 'restart' });
  });

  it('never waits longer than the larger of the backoff cap and the pause, and never restarts twice at once', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 600_000 }), { maxLength: 12 }), (times) => {
        let h: readonly number[] = [];
        let now = 0;
        for (const dt of times) {
          now += dt;
          const d = decideRestart(h, now, P);
          if (d.kind === 'restart') {
            h = recordRestart(h, now, P);
            expect(decideRestart(h, now, P).kind).not.toBe('restart');
          } else expect(d.untilMs - now).toBeLessThanOrEqual(Math.max(P.maxBackoffMs, P.crashLoopPauseMs));
        }
      }),
    );
  });
});
