import { z } from 'zod';

/** Resource id prefixes. Ids are `<prefix>-<time><random>`, so sorting by id is creation order. */
export const ID_PREFIX = {
  account: 'acc',
  subAccount: 'sub',
  policy: 'pol',
  apiKey: 'key',
  operatorKey: 'opk',
  grant: 'grt',
  instance: 'ins',
  operation: 'op',
  alarmPolicy: 'alm',
  alarmEvent: 'alev',
  notificationChannel: 'nch',
  notification: 'ntf',
  connector: 'con',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

export function idSchema(kind: IdKind) {
  return z
    .string()
    .regex(new RegExp(`^${ID_PREFIX[kind]}-[0-9a-z]{16,32}$`), `must be a ${kind} id (${ID_PREFIX[kind]}-…)`);
}

/** A name users give resources: DNS-label-like so it is safe in URLs, resource patterns and logs. */
export const ResourceName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'lowercase letters, digits and inner hyphens');

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * A new id: 10 characters of millisecond time then 10 random ones (both base32), so ids sort in
 * creation order, which keyset pagination relies on.
 */
export function newId(kind: IdKind, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const bytes = new Uint8Array(10);
  crypto.getRandomValues(bytes);
  let rand = '';
  for (const b of bytes) rand += CROCKFORD[b % 32];
  return `${ID_PREFIX[kind]}-${time}${rand}`;
}
