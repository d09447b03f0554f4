import { type ConnectorType, connectorDialTargets } from '@fjord/contracts';
import { type AllowedNetworks, RefusedTarget, resolveAllowed } from '@fjord/egress';
import type { FieldIssue } from '../problem.js';

/** How long a name's lookup may hold a request; a slower one is left to the dial-time check. */
const LOOKUP_TIMEOUT_MS = 3000;

/**
 * The fields of a connector's config naming a host that is, or now resolves to, an address
 * connectors may not reach (`@fjord/egress`: loopback, private, link-local, …, unless in
 * `FJORD_CONNECTOR_ALLOWED_NETWORKS`). Every address of a name is judged. A name that does not
 * resolve (yet), or not in time, passes: this check is for an early, clear answer; the connect
 * worker checks every connection again when it dials (DNS can change in between).
 */
export async function refusedConnectorTargets(
  type: ConnectorType,
  config: Readonly<Record<string, unknown>>,
  allowed: AllowedNetworks,
): Promise<FieldIssue[]> {
  const judged = await Promise.all(
    connectorDialTargets(type, config).map(async ({ path, host }): Promise<FieldIssue | undefined> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((r) => {
        timer = setTimeout(r, LOOKUP_TIMEOUT_MS);
      });
      try {
        await Promise.race([resolveAllowed(host, allowed), timeout]);
        return undefined;
      } catch (e) {
        if (e instanceof RefusedTarget) return { path, message: e.message, code: 'not_public' };
        return undefined; // not resolvable now: judged when dialled
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return judged.filter((i) => i !== undefined);
}
