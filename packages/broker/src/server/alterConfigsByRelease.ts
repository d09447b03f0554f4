import { LISTENER_REGISTRATION_CONFIGS, kafkaReleaseAtLeast as releaseAtLeast } from '@fjord/metadata';
import { ErrorCode } from '@fjord/protocol';

/**
 * Where (Incremental)AlterConfigs answers differ by the Kafka release a broker emulates, so that
 * clients and their suites pinned to an older release see what that release answered.
 */

/**
 * A legacy AlterConfigs resource naming one config twice: before 3.2 Kafka kept the last value
 * (AdminManager.alterConfigs put the entries into a Properties); from 3.2 it refuses the resource
 * with INVALID_REQUEST (ConfigAdminManager.preprocess, KAFKA-13552). IncrementalAlterConfigs
 * refused repeats from its start (2.3). librdkafka 2.0.2's test helper sends every described
 * config plus the changed one in one request.
 */
export function legacyAlterConfigsRefusesDuplicates(kafkaVersion: string): boolean {
  return releaseAtLeast(kafkaVersion, [3, 2]);
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

/**
 * Altering the configs of a topic that does not exist: before 2.7 Kafka's
 * AdminZkClient.validateTopicConfig threw AdminOperationException, which is no ApiException, so
 * the answer was UNKNOWN_SERVER_ERROR with its message; 2.7 answers UNKNOWN_TOPIC_OR_PARTITION
 * (KAFKA-10033). librdkafka's 0081_admin expects each by the broker version. Undefined from 2.7 on.
 */
export function missingTopicConfigError(
  kafkaVersion: string,
  topic: string,
): { readonly errorCode: number; readonly errorMessage: string } | undefined {
  return releaseAtLeast(kafkaVersion, [2, 7])
    ? undefined
    : { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: `Topic "${topic}" does not exist.` };
}

/**
 * Before 4.0 Kafka lists `advertised.listeners`, `listeners` and `listener.security.protocol.map`
 * as reconfigurable (DescribeConfigs: not read-only); 4.0 made them read-only. Fjord reports them
 * as the emulated release does.
 */
export function listenersReportedReconfigurable(kafkaVersion: string): boolean {
  return !releaseAtLeast(kafkaVersion, [4, 0]);
}

/**
 * Changing a listener registration key where it is reported reconfigurable: a KRaft broker of
 * 3.x refuses it (DynamicListenerConfig: "Advertised listeners cannot be altered when using a
 * Raft-based metadata quorum.", answered as INVALID_REQUEST "Invalid dynamic configuration");
 * Fjord's metadata quorum is Raft-like, so it answers the same, with the reason. From 4.0 the keys
 * are read-only and refused like any other.
 */
export function listenerRegistrationRefusal(
  kafkaVersion: string,
  names: readonly string[],
): { readonly errorCode: number; readonly errorMessage: string } | undefined {
  if (!listenersReportedReconfigurable(kafkaVersion)) return undefined;
  const name = names.find((n) => LISTENER_REGISTRATION_CONFIGS.has(n));
  return name === undefined
    ? undefined
    : {
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `Invalid dynamic configuration: ${name}: Advertised listeners cannot be altered when using a Raft-based metadata quorum.`,
      };
}
