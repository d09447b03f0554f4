import ipaddr from 'ipaddr.js';

/**
 * Which addresses a connection a tenant aims may reach. Alarm webhooks and connectors are set up by
 * tenants, and what dials them (the worker, the connect workers, the API checking them) sits inside
 * the control plane's network: a target at a loopback, private, link-local (the cloud metadata
 * service, 169.254.169.254), unspecified, multicast or reserved address would let a tenant reach
 * what only the control plane should (PostgreSQL, Redis, the agents, brokers' internal listeners).
 * So only public unicast addresses are allowed, plus networks the operator lists (an on-premises
 * deployment's receivers in 10.0.0.0/8, tests' servers on 127.0.0.1).
 */
export type AllowedNetworks = readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[];

/**
 * Parses a comma-separated CIDR list (`FJORD_WEBHOOK_ALLOWED_NETWORKS`,
 * `FJORD_CONNECTOR_ALLOWED_NETWORKS`); throws naming a bad entry.
 */
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

/**
 * The range that keeps `address` (an IP address as text) from being dialled — ipaddr.js's name:
 * `loopback`, `private`, `linkLocal`, `uniqueLocal`, `unspecified`, `multicast`, `reserved`,
 * `carrierGradeNat`, … — or undefined when it may be: public unicast, or inside an allowed network.
 */
export function refusedRange(address: string, allowed: AllowedNetworks): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  // process() turns ::ffff:10.0.0.1 into 10.0.0.1, so a mapped address is judged as what it reaches.
  const ip = ipaddr.process(address);
  const range = ip.range();
  if (range === 'unicast') return undefined;
  return allowed.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits)) ? undefined : range;
}

/** Whether a connection may go to `address` (an IP address as text). */
export function addressAllowed(address: string, allowed: AllowedNetworks): boolean {
  return refusedRange(address, allowed) === undefined;
}
