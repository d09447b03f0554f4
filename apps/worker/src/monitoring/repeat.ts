import type { Logger } from 'pino';

/**
 * Runs `task` every `ms` without overlapping runs (a slow pass delays the next instead of piling
 * up); a failed pass is logged and the next one runs as usual. Returns the stop function.
 */
export function repeat(name: string, ms: number, task: () => Promise<unknown>, log: Logger): () => void {
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    task()
      .catch((err: Error) => log.warn({ err: err.message, task: name }, 'periodic task failed; will retry'))
      .finally(() => {
        running = false;
      });
  };
  const timer = setInterval(tick, ms);
  tick();
  return () => clearInterval(timer);
}
