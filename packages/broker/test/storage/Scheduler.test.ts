import { describe, expect, it } from 'vitest';
import { ManualScheduler, TimerScheduler } from '../../src/storage/Scheduler.js';

describe('schedulers', () => {
  it('ManualScheduler runs due tasks in time order and keeps going after a failure', async () => {
    const s = new ManualScheduler(1_000);
    const runs: string[] = [];
    s.schedule('a', 100, () => {
      runs.push(`a@${s.now()}`);
    });
    const cancel = s.schedule('b', 150, async () => {
      runs.push(`b@${s.now()}`);
      throw new Error('boom');
    });
    await s.advance(300);
    expect(runs).toEqual(['a@1100', 'b@1150', 'a@1200', 'a@1300', 'b@1300']);
    expect(s.errors.map((e) => e.name)).toEqual(['b', 'b']);
    cancel();
    await s.advance(200);
    expect(runs.slice(5)).toEqual(['a@1400', 'a@1500']);
    expect(s.now()).toBe(1_500);
  });

  it('TimerScheduler never overlaps runs of a slow asynchronous task', async () => {
    const s = new TimerScheduler();
    let running = 0;
    let maxConcurrent = 0;
    let runs = 0;
    const cancel = s.schedule('slow', 5, async () => {
      running++;
      runs++;
      maxConcurrent = Math.max(maxConcurrent, running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
    });
    await new Promise((r) => setTimeout(r, 120));
    cancel();
    expect(runs).toBeGreaterThan(1);
    expect(maxConcurrent).toBe(1);
  });
});
