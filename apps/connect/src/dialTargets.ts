import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { type ConnectorType, connectorDialTargets } from '@fjord/contracts';
import { type AllowedNetworks, guardedLookup, RefusedTarget, resolveAllowed } from '@fjord/egress';

/**
 * Judges the hosts a connector's config names as its task starts, so a refused one fails the task
 * at once with the field in its reason (`config.connection.host: 10.0.0.5 is not a public address
 * (private)`). A host that does not resolve is left to the client, which reports it as it would.
 * This is not the only check: every connection is judged again as it is made (`guardKafkaDials`,
 * `guardedAgents`, the PostgreSQL sink's checked address).
 */
export async function checkDialTargets(
  type: ConnectorType,
  config: Readonly<Record<string, unknown>>,
  allowed: AllowedNetworks,
): Promise<void> {
  for (const { path, host } of connectorDialTargets(type, config)) {
    try {
      await resolveAllowed(host, allowed);
    } catch (e) {
      if (e instanceof RefusedTarget)
        throw new RefusedTarget(`${path.slice(1).replaceAll('/', '.')}: ${e.message}`);
    }
  }
}

/**
 * HTTP agents whose sockets connect only to allowed addresses: a name is resolved and every address
 * checked, then the socket connects to a checked one (no second lookup to rebind). An IP literal
 * host has no lookup; `checkDialTargets` judges the configured one, and the S3 client only ever
 * derives names from it (virtual-hosted buckets) or keeps it.
 */
export function guardedAgents(allowed: AllowedNetworks): { httpAgent: HttpAgent; httpsAgent: HttpsAgent } {
  const lookup = guardedLookup(allowed);
  return {
    httpAgent: new HttpAgent({ keepAlive: true, lookup }),
    httpsAgent: new HttpsAgent({ keepAlive: true, lookup }),
  };
}
