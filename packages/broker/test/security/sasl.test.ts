import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authenticatePlain } from '../../src/security/PlainAuthenticator.js';
import { ScramAuthenticator } from '../../src/security/ScramAuthenticator.js';
import { hmac, type ScramMechanism, scramCredential } from '../../src/security/ScramCredential.js';

describe('SCRAM (RFC 5802 / 7677)', () => {
  it('reproduces the RFC 7677 SCRAM-SHA-256 example exchange', () => {
    const cred = scramCredential(
      'SCRAM-SHA-256',
      'pencil',
      4096,
      Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
    );
    const server = new ScramAuthenticator(
      'SCRAM-SHA-256',
      (u) => (u === 'user' ? cred : undefined),
      () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
    );
    const first = server.step(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    expect(first).toEqual({
      kind: 'challenge',
      token: Buffer.from(
        'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
      ),
    });
    const final = server.step(
      Buffer.from(
        'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
      ),
    );
    expect(final).toEqual({
      kind: 'success',
      token: Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='),
      principal: 'User:user',
    });
  });

  /** A client side written from the RFC, to drive SHA-512 and failure cases. */
  function client(mechanism: ScramMechanism, user: string, password: string, server: ScramAuthenticator) {
    const hash = mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
    const cnonce = randomBytes(12).toString('base64');
    const bare = `n=${user},r=${cnonce}`;
    const first = server.step(Buffer.from(`n,,${bare}`));
    if (first.kind !== 'challenge') return first;
    const sf = first.token.toString();
    const attrs = Object.fromEntries(sf.split(',').map((p) => [p[0], p.slice(2)]));
    const salted = pbkdf2Sync(
      password,
      Buffer.from(attrs.s!, 'base64'),
      Number(attrs.i),
      hash === 'sha256' ? 32 : 64,
      hash,
    );
    const clientKey = hmac(hash, salted, 'Client Key');
    const stored = createHash(hash).update(clientKey).digest();
    const withoutProof = `c=biws,r=${attrs.r}`;
    const sig = hmac(hash, stored, `${bare},${sf},${withoutProof}`);
    const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i]!));
    return server.step(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`));
  }

  it('authenticates SHA-512 and refuses a wrong password or an unknown user alike', () => {
    const cred = scramCredential('SCRAM-SHA-512', 'alice-secret', 8192);
    const lookup = (u: string) => (u === 'alice' ? cred : undefined);
    expect(
      client('SCRAM-SHA-512', 'alice', 'alice-secret', new ScramAuthenticator('SCRAM-SHA-512', lookup)),
    ).toMatchObject({ kind: 'success', principal: 'User:alice' });
    const wrong = client('SCRAM-SHA-512', 'alice', 'nope', new ScramAuthenticator('SCRAM-SHA-512', lookup));
    const unknown = client('SCRAM-SHA-512', 'mallory', 'x', new ScramAuthenticator('SCRAM-SHA-512', lookup));
    expect(wrong.kind).toBe('failure');
    expect(unknown).toEqual(wrong);
  });

  it('refuses malformed, replayed or oversized messages without throwing', () => {
    const cred = scramCredential('SCRAM-SHA-256', 'pw');
    const lookup = () => cred;
    for (const bad of [
      '',
      'garbage',
      'p=tls-unique,,n=u,r=x',
      'n,,n=u',
      'n,,r=abc',
      'n,,n=a=b,r=x',
      'n,a=other,n=u,r=x',
    ])
      expect(new ScramAuthenticator('SCRAM-SHA-256', lookup).step(Buffer.from(bad)).kind).toBe('failure');
    const s = new ScramAuthenticator('SCRAM-SHA-256', lookup);
    s.step(Buffer.from('n,,n=u,r=abc'));
    // A final message carrying someone else's nonce (replay) fails.
    expect(s.step(Buffer.from('c=biws,r=abcOTHER,p=AAAA')).kind).toBe('failure');
    expect(new ScramAuthenticator('SCRAM-SHA-256', lookup).step(Buffer.alloc(100_000, 0x41)).kind).toBe(
      'failure',
    );
  });
});

describe('PLAIN (RFC 4616)', () => {
  const users = new Map([['alice', 'alice-secret']]);
  const token = (...parts: string[]) => Buffer.from(parts.join('\u0000'));
  it('accepts the right password and refuses everything else', () => {
    expect(authenticatePlain(token('', 'alice', 'alice-secret'), users)).toMatchObject({
      kind: 'success',
      principal: 'User:alice',
    });
    expect(authenticatePlain(token('alice', 'alice', 'alice-secret'), users).kind).toBe('success');
    expect(authenticatePlain(token('', 'alice', 'wrong'), users).kind).toBe('failure');
    expect(authenticatePlain(token('', 'bob', 'alice-secret'), users).kind).toBe('failure');
    expect(authenticatePlain(token('bob', 'alice', 'alice-secret'), users).kind).toBe('failure');
    expect(authenticatePlain(Buffer.from('no separators'), users).kind).toBe('failure');
    expect(authenticatePlain(Buffer.alloc(5000, 0), users).kind).toBe('failure');
  });
});
