import { describe, expect, it } from 'vitest';
import {
  AUDIT_GENESIS_HASH,
  auditEventHash,
  type ChainedAuditEvent,
  canonicalJson,
  verifyAuditChain,
} from '../src/auditChain.js';

/** `n` hashed events numbered from `first`. */
function chainOf(n: number, first = 1): ChainedAuditEvent[] {
  const out: ChainedAuditEvent[] = [];
  let prevHash = AUDIT_GENESIS_HASH;
  for (let i = first; i < first + n; i++) {
    const e = {
      id: String(i),
      accountId: 'acc-1',
      actor: 'account/acc-1',
      action: 'CreatePolicy',
      resource: `policy/p${i}`,
      outcome: 'succeeded',
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      details: { b: i, a: { y: 1, x: [1, 2] } },
      prevHash,
    };
    const hash = auditEventHash(e);
    out.push({ ...e, hash });
    prevHash = hash;
  }
  return out;
}

describe('audit chain', () => {
  it('canonical JSON does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [3, { y: 2, z: 1 }] }, b: 1 }),
    );
  });

  it('accepts an intact chain and names the first altered, missing or relinked event', () => {
    expect(verifyAuditChain(chainOf(4))).toEqual({ ok: true, events: 4, legacy: 0 });

    const altered = chainOf(4);
    altered[2] = { ...altered[2]!, details: { b: 99 } };
    expect(verifyAuditChain(altered)).toMatchObject({ ok: false, eventId: '3' });

    const missing = chainOf(4).filter((e) => e.id !== '2');
    expect(verifyAuditChain(missing)).toMatchObject({ ok: false, eventId: '3' });

    // Rewriting an event together with its own hash still breaks the link to the next one.
    const rehashed = chainOf(4);
    const forged = { ...rehashed[1]!, actor: 'someone-else' };
    rehashed[1] = { ...forged, hash: auditEventHash({ ...forged, prevHash: forged.prevHash! }) };
    expect(verifyAuditChain(rehashed)).toMatchObject({ ok: false, eventId: '3' });
  });

  it('accepts unhashed events only before the hashed ones', () => {
    const legacy = (id: string): ChainedAuditEvent => ({
      ...chainOf(1)[0]!,
      id,
      prevHash: null,
      hash: null,
    });
    expect(verifyAuditChain([legacy('1'), legacy('2'), ...chainOf(2, 3)])).toEqual({
      ok: true,
      events: 4,
      legacy: 2,
    });
    const tail = chainOf(2);
    expect(verifyAuditChain([...tail, legacy('3')])).toMatchObject({ ok: false, eventId: '3' });
  });
});
