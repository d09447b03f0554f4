import ipaddr from 'ipaddr.js';

/**
 * Which addresses alarm webhooks may be sent to. Channels are created by tenants, and the worker
 * that delivers them sits inside the control plane's network: a webhook aimed at a loopback,
 * private or link-local address (the cloud metadata service, the agents, PostgreSQL) would let a
 * tenant reach what only the control plane should. So only public unicast addresses are allowed,
 * plus networks the operator lists (an on-premises deployment's receivers in 10.0.0.0/8, tests'
 * receivers on 127.0.0.1).
 */
export type AllowedNetworks = readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[];

/** Parses a comma-separated CIDR list (`FJORD_WEBHOOK_ALLOWED_NETWORKS`); throws naming a bad entry. */
export function parseAllowedNetworks(spec: string | undefined): AllowedNetworks {
  if (!spec?.trim()) return [];
  return spec.split(',').map((entry) => {
    const cidr = entry.trim();
    try {
      return ipaddr.parseCIDR(cidr);
    } catch {
      throw new Error(`not a network in CIDR notation: '${cidr}'`);
    }
  });
}

/** Whether a webhook may connect to `address` (an IP address as text). */
export function webhookAddressAllowed(address: string, allowed: AllowedNetworks): boolean {
  if (!ipaddr.isValid(address)) return false;
  // process() turns ::ffff:10.0.0.1 into 10.0.0.1, so a mapped address is judged as what it reaches.
  const ip = ipaddr.process(address);
  if (ip.range() === 'unicast') return true;
  return allowed.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));
}

/**
 * Why a webhook URL is refused before any lookup, if it is: a literal address outside the allowed
 * ones, or `localhost`. Names are judged at each delivery, on the addresses they resolve to then.
 */
export function refusedWebhookUrl(url: URL, allowed: AllowedNetworks): string | undefined {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (ipaddr.isValid(host)) {
    return webhookAddressAllowed(host, allowed) ? undefined : `${host} is not a public address`;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return allowed.length > 0 && webhookAddressAllowed('127.0.0.1', allowed)
      ? undefined
      : `${host} is not a public address`;
  }
  return undefined;
}
