import { ApiKey } from '@fjord/protocol';

/**
 * Admin requests that change cluster metadata, which Kafka forwards to the active controller
 * in an Envelope (KIP-590): their handlers authorize, validate and submit a pure plan to the
 * controller, using only the connection's principal, client address, listener and security
 * protocol, so they run the same on the broker that holds the controller lease.
 */
export const FORWARDED_APIS: ReadonlySet<number> = new Set([
  ApiKey.CreateTopics,
  ApiKey.DeleteTopics,
  ApiKey.CreatePartitions,
  ApiKey.AlterConfigs,
  ApiKey.IncrementalAlterConfigs,
  ApiKey.CreateAcls,
  ApiKey.DeleteAcls,
  ApiKey.AlterUserScramCredentials,
  ApiKey.AlterClientQuotas,
]);
