/**
 * How many tasks a worker should hold (pure): an even share of all tasks over the live workers,
 * rounded up, within the worker's own limit. Kafka Connect's incremental cooperative rebalancing
 * moves tasks to a new worker the same way: the workers above their share give the excess back,
 * and whoever is below takes free tasks, one a round.
 */
export function fairShare(tasks: number, liveWorkers: number, maxTasks: number): number {
  return Math.min(maxTasks, Math.ceil(tasks / Math.max(1, liveWorkers)));
}

/** What a worker holding `held` tasks does this round: give some back, or take one. */
export function balanceStep(held: number, share: number): { release: number; acquire: number } {
  if (held > share) return { release: held - share, acquire: 0 };
  return { release: 0, acquire: held < share ? 1 : 0 };
}
