import { createHash } from 'node:crypto';

/** `prevHash` of the first hashed event of a chain. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** Chain of the events that belong to no account (operator actions on the platform). */
export const PLATFORM_AUDIT_CHAIN = 'platform';

/** The fields an event's hash covers, as the export carries them. */
export interface ChainedAuditEvent {
  readonly id: string;
  readonly accountId: string | null;
  readonly actor: string;
  readonly action: string;
  readonly resource: string;
  readonly outcome: string;
  readonly at: string;
  readonly details: unknown;
  readonly prevHash: string | null;
  readonly hash: string | null;
}

/** JSON with object keys sorted at every depth: the same text whatever order the store keeps keys in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** SHA-256 over every field of the event and the previous event's hash. */
export function auditEventHash(e: Omit<ChainedAuditEvent, 'hash'> & { prevHash: string }): string {
  return createHash('sha256')
    .update(
      canonicalJson([
        e.accountId ?? PLATFORM_AUDIT_CHAIN,
        e.id,
        e.at,
        e.actor,
        e.action,
        e.resource,
        e.outcome,
        e.details,
        e.prevHash,
      ]),
    )
    .digest('hex');
}

export type ChainVerdict =
  | { readonly ok: true; readonly events: number; readonly legacy: number }
  | { readonly ok: false; readonly eventId: string; readonly reason: string };

/**
 * Checks one chain given in order (oldest first, from id 1): ids without gaps, each event's hash
 * over its own fields, each `prevHash` the hash of the one before. Unhashed events (recorded
 * before chains existed) may only come first.
 */
export function verifyAuditChain(events: Iterable<ChainedAuditEvent>): ChainVerdict {
  let expectedId = 1n;
  let prev: string | null = null;
  let count = 0;
  let legacy = 0;
  for (const e of events) {
    const broken = (reason: string): ChainVerdict => ({ ok: false, eventId: e.id, reason });
    if (!/^\d+$/.test(e.id) || BigInt(e.id) !== expectedId)
      return broken(`expected event ${expectedId} here (an event is missing or out of order)`);
    expectedId++;
    count++;
    if (e.hash === null || e.prevHash === null) {
      if (prev !== null || e.hash !== null || e.prevHash !== null)
        return broken('an unhashed event after hashed ones');
      legacy++;
      continue;
    }
    const expectedPrev = prev ?? AUDIT_GENESIS_HASH;
    if (e.prevHash !== expectedPrev) return broken('prevHash is not the hash of the previous event');
    if (auditEventHash({ ...e, prevHash: e.prevHash }) !== e.hash)
      return broken('the event does not match its hash (it was altered)');
    prev = e.hash;
  }
  return { ok: true, events: count, legacy };
}
