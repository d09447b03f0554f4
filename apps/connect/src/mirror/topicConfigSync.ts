/**
 * Which topic-level configs a mirror copies to the target and what it changes there (pure;
 * MirrorMaker 2's sync.topic.configs with its DefaultConfigPropertyFilter).
 */

/** A topic's overrides: its TOPIC_CONFIG entries, name → value. */
export type TopicOverrides = ReadonlyMap<string, string>;

/**
 * Never copied (MirrorMaker 2's config.properties.exclude default): throttled replica lists name
 * the source's broker ids, min.insync.replicas and unclean leader election are durability choices of
 * the target's own replicas, and the timestamp settings would let the target restamp or refuse the
 * source's record timestamps.
 */
export const NEVER_COPIED_CONFIGS: readonly string[] = [
  'follower\\.replication\\.throttled\\.replicas',
  'leader\\.replication\\.throttled\\.replicas',
  'message\\.timestamp\\.difference\\.max\\.ms',
  'message\\.timestamp\\.type',
  'unclean\\.leader\\.election\\.enable',
  'min\\.insync\\.replicas',
];

/** Whether a config name is copied: it matches none of the fixed exclusions nor the connector's own. */
export function copiedConfig(extraExclude: readonly string[]): (name: string) => boolean {
  const patterns = [...NEVER_COPIED_CONFIGS, ...extraExclude].map((p) => new RegExp(`^(?:${p})$`));
  return (name) => !patterns.some((r) => r.test(name));
}

/** The overrides a topic created on the target starts with. */
export function overridesToCopy(
  source: TopicOverrides,
  copied: (name: string) => boolean,
): Map<string, string> {
  return new Map([...source].filter(([name]) => copied(name)));
}

export interface ConfigSyncPlan {
  /** Set on the target (new on the source, or changed there). */
  readonly set: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  /** Deleted on the target (removed on the source): the target's own default applies again. */
  readonly delete: readonly string[];
}

/**
 * What to change on the target's topic so that its copied overrides equal the source's.
 * `lastSeen` is the source's overrides at the previous look, when there was one: then only keys
 * that changed on the source since are touched. That keeps a two-way mirror of the same topic from
 * undoing a change made on one side with the other side's old value before it has been copied over;
 * on the first look (a task started) everything is reconciled.
 */
export function planConfigSync(
  source: TopicOverrides,
  target: TopicOverrides,
  copied: (name: string) => boolean,
  lastSeen?: TopicOverrides,
): ConfigSyncPlan {
  const names = [...new Set([...source.keys(), ...target.keys()])]
    .filter(copied)
    .filter((name) => lastSeen === undefined || lastSeen.get(name) !== source.get(name))
    .sort();
  const set: { name: string; value: string }[] = [];
  const del: string[] = [];
  for (const name of names) {
    const want = source.get(name);
    const have = target.get(name);
    if (want === undefined) {
      if (have !== undefined) del.push(name);
    } else if (want !== have) set.push({ name, value: want });
  }
  return { set, delete: del };
}
