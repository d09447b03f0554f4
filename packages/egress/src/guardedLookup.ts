import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { type AllowedNetworks, refusedRange } from './allowedNetworks.js';

/** A target a tenant aimed at an address it may not reach; retrying cannot help. */
export class RefusedTarget extends Error {
  override readonly name = 'RefusedTarget';
}

/** The refusal of `address` as `host` resolved to it, if it is refused. */
export function refusedResolution(
  host: string,
  address: string,
  allowed: AllowedNetworks,
): RefusedTarget | undefined {
  const range = refusedRange(address, allowed);
  if (range === undefined) return undefined;
  return new RefusedTarget(
    host === address
      ? `${host} is not a public address (${range})`
      : `${host} resolves to ${address}, not a public address (${range})`,
  );
}

/**
 * Resolves like dns.lookup, but fails when any address the name resolves to is not allowed. A
 * socket given it connects to the address checked here, so a name cannot pass the check and be
 * re-resolved to an internal address afterwards (DNS rebinding). Node skips the lookup for an IP
 * literal host: check those before connecting (`resolveAllowed`).
 */
export function guardedLookup(allowed: AllowedNetworks): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      for (const a of addresses) {
        const refused = refusedResolution(hostname, a.address, allowed);
        if (refused) return callback(refused, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/**
 * Every address `host` (a name or an IP literal, in any spelling the system resolver takes)
 * resolves to now, all of them allowed; rejects with `RefusedTarget` naming the first that is not,
 * or with the resolver's error.
 */
export function resolveAllowed(host: string, allowed: AllowedNetworks): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    guardedLookup(allowed)(host, { all: true }, (err, addresses) => {
      if (err) reject(err);
      else resolve(addresses as unknown as LookupAddress[]);
    });
  });
}
