/** A periodic task: may be asynchronous; a run never overlaps the previous one of the same task. */
export type ScheduledTask = () => unknown;

/**
 * The broker's one notion of time and timers: periodic work (retention, flush, checkpoints,
 * cleaning, dir checks) and one-shot timeouts (group sessions and rebalances), behind an
 * interface so that the broker runs on real timers and tests on a manual clock.
 */
export interface Scheduler {
  /** Runs `task` every `periodMs`, the first time after `periodMs`. Returns a cancel function. */
  schedule(name: string, periodMs: number, task: ScheduledTask): () => void;
  /** Runs `fn` once after `delayMs`. Returns a cancel function. */
  after(delayMs: number, fn: () => void): () => void;
  now(): number;
}

/** Reports a task's failure; the task keeps its schedule. */
export type TaskErrorHandler = (name: string, error: unknown) => void;

/** Node timers, unref'd so they never keep the process alive. */
export class TimerScheduler implements Scheduler {
  constructor(private readonly onError: TaskErrorHandler = () => {}) {}

  schedule(name: string, periodMs: number, task: ScheduledTask): () => void {
    let running = false;
    const timer = setInterval(
      () => {
        if (running) return;
        running = true;
        runTask(name, task, this.onError).finally(() => {
          running = false;
        });
      },
      Math.max(1, periodMs),
    );
    timer.unref();
    return () => clearInterval(timer);
  }

  after(delayMs: number, fn: () => void): () => void {
    const t = setTimeout(fn, delayMs);
    t.unref();
    return () => clearTimeout(t);
  }

  now(): number {
    return Date.now();
  }
}

interface ManualTask {
  readonly name: string;
  readonly periodMs: number;
  readonly task: ScheduledTask;
  nextRunMs: number;
  cancelled: boolean;
}

/**
 * A scheduler driven by `advance(ms)`: due tasks run in time order, each awaited, so a test
 * sees their effects as soon as advance() resolves.
 */
export class ManualScheduler implements Scheduler {
  private readonly tasks: ManualTask[] = [];
  private clock: number;
  readonly errors: { name: string; error: unknown }[] = [];

  constructor(startMs = 0) {
    this.clock = startMs;
  }

  schedule(name: string, periodMs: number, task: ScheduledTask): () => void {
    const entry: ManualTask = {
      name,
      periodMs: Math.max(1, periodMs),
      task,
      nextRunMs: this.clock + Math.max(1, periodMs),
      cancelled: false,
    };
    this.tasks.push(entry);
    return () => {
      entry.cancelled = true;
    };
  }

  after(delayMs: number, fn: () => void): () => void {
    let cancel = () => {};
    cancel = this.schedule('after', delayMs, () => {
      cancel();
      fn();
    });
    return () => cancel();
  }

  now(): number {
    return this.clock;
  }

  /** Moves the clock forward, running every task that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const until = this.clock + ms;
    for (;;) {
      const due = this.tasks
        .filter((t) => !t.cancelled && t.nextRunMs <= until)
        .sort((a, b) => a.nextRunMs - b.nextRunMs)[0];
      if (!due) break;
      this.clock = Math.max(this.clock, due.nextRunMs);
      due.nextRunMs += due.periodMs;
      await runTask(due.name, due.task, (name, error) => this.errors.push({ name, error }));
    }
    this.clock = until;
  }

  /** Names of the tasks still scheduled. */
  scheduled(): string[] {
    return this.tasks.filter((t) => !t.cancelled).map((t) => t.name);
  }
}

async function runTask(name: string, task: ScheduledTask, onError: TaskErrorHandler): Promise<void> {
  try {
    await task();
  } catch (error) {
    onError(name, error);
  }
}
