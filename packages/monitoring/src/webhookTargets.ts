import { type AllowedNetworks, addressAllowed } from '@fjord/egress';
import ipaddr from 'ipaddr.js';

/**
 * Why a webhook URL is refused before any lookup, if it is: a literal address outside the allowed
 * ones (`@fjord/egress`: public unicast, or an operator's `FJORD_WEBHOOK_ALLOWED_NETWORKS`), or
 * `localhost`. Names are judged at each delivery, on the addresses they resolve to then.
 */
export function refusedWebhookUrl(url: URL, allowed: AllowedNetworks): string | undefined {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (ipaddr.isValid(host)) {
    return addressAllowed(host, allowed) ? undefined : `${host} is not a public address`;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return allowed.length > 0 && addressAllowed('127.0.0.1', allowed)
      ? undefined
      : `${host} is not a public address`;
  }
  return undefined;
}
