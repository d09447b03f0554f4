import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type AllowedNetworks, guardedLookup, RefusedTarget } from '@fjord/egress';
import { refusedWebhookUrl } from '@fjord/monitoring';

/** POSTs `body` to `url` without following redirects; resolves to the answer's status. */
export function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  o: { readonly timeoutMs: number; readonly allowed: AllowedNetworks },
): Promise<number> {
  const target = new URL(url);
  const refused = refusedWebhookUrl(target, o.allowed);
  if (refused) return Promise.reject(new RefusedTarget(refused));
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        // Connects to the addresses checked there, so a name cannot be rebound in between.
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
