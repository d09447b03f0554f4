/**
 * A legacy AlterConfigs resource naming one config twice, as the Kafka release a broker emulates
 * treats it. Before 3.2 Kafka kept the last value (AdminManager.alterConfigs put the entries into a
 * Properties); from 3.2 it refuses the resource with INVALID_REQUEST (ConfigAdminManager.preprocess,
 * KAFKA-13552). IncrementalAlterConfigs refused duplicates from its start (2.3), so it is not here.
 * librdkafka 2.0.2's test helper sends every described config plus the changed one in one request.
 */

/** The first release whose legacy AlterConfigs refuses a repeated config name. */
const REFUSING_RELEASE: readonly [number, number] = [3, 2];

/** Whether a broker emulating `kafkaVersion` (`2.4`, `2.4.0`, `0.10.2`, `3.8`) refuses repeats. */
export function legacyAlterConfigsRefusesDuplicates(kafkaVersion: string): boolean {
  const [major = 0, minor = 0] = kafkaVersion.split('.').map(Number);
  return major !== REFUSING_RELEASE[0] ? major > REFUSING_RELEASE[0] : minor >= REFUSING_RELEASE[1];
}

/**
 * The entries as a broker emulating `kafkaVersion` applies them: unchanged where repeats are
 * refused (the planner refuses them), otherwise one entry per name carrying its last value.
 */
export function legacyAlterConfigEntries<T extends { readonly name: string }>(
  entries: readonly T[],
  kafkaVersion: string,
): readonly T[] {
  if (legacyAlterConfigsRefusesDuplicates(kafkaVersion)) return entries;
  const byName = new Map<string, T>();
  for (const e of entries) byName.set(e.name, e);
  return [...byName.values()];
}
