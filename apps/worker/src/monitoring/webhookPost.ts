import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { type AllowedNetworks, refusedWebhookUrl, webhookAddressAllowed } from '@fjord/monitoring';

/** A webhook target the worker will not connect to; retrying cannot help. */
export class RefusedWebhookTarget extends Error {}

/**
 * Resolves like dns.lookup, but fails when any address the name resolves to is not allowed. The
 * connection then goes to the address checked here, so a name cannot pass the check and be
 * re-resolved to an internal address afterwards (DNS rebinding).
 */
export function guardedLookup(allowed: AllowedNetworks): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.find((a) => !webhookAddressAllowed(a.address, allowed));
      if (refused) {
        return callback(
          new RefusedWebhookTarget(`${hostname} resolves to ${refused.address}, not a public address`),
          '',
          0,
        );
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/** POSTs `body` to `url` without following redirects; resolves to the answer's status. */
export function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  o: { readonly timeoutMs: number; readonly allowed: AllowedNetworks },
): Promise<number> {
  const target = new URL(url);
  const refused = refusedWebhookUrl(target, o.allowed);
  if (refused) return Promise.reject(new RefusedWebhookTarget(refused));
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: guardedLookup(o.allowed),
        signal: AbortSignal.timeout(o.timeoutMs),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
