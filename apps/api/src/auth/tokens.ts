import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Principal } from './principal.js';

export interface SigningKey {
  readonly kid: string;
  readonly secret: string;
}

export interface TokenSettings {
  /** The first key signs; all verify (rotation: add a new key first, drop the old one after the TTL). */
  readonly keys: readonly SigningKey[];
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
}

interface Claims {
  readonly sub: string;
  readonly typ: Principal['kind'];
  readonly acc?: string;
}

export class InvalidToken extends Error {}

/** Short-lived HS256 JWTs with a key id per signing key, issuer/audience/expiry always checked. */
export class TokenService {
  // KeyObjects made once: given a string, jsonwebtoken first tries it as a public key on every
  // call (createPublicKey), which was the API's single largest cost.
  private readonly byKid: Map<string, KeyObject>;
  private readonly signing: { kid: string; key: KeyObject };

  constructor(private readonly settings: TokenSettings) {
    if (settings.keys.length === 0) throw new Error('at least one JWT signing key is required');
    for (const k of settings.keys)
      if (Buffer.byteLength(k.secret) < 32) throw new Error(`JWT key ${k.kid} is shorter than 32 bytes`);
    this.byKid = new Map(settings.keys.map((k) => [k.kid, createSecretKey(Buffer.from(k.secret))]));
    const first = settings.keys[0]!;
    this.signing = { kid: first.kid, key: this.byKid.get(first.kid)! };
  }

  get ttlSeconds(): number {
    return this.settings.ttlSeconds;
  }

  issue(p: Principal): string {
    const claims: Claims = { sub: p.id, typ: p.kind, ...(p.kind === 'operator' ? {} : { acc: p.accountId }) };
    return jwt.sign(claims, this.signing.key, {
      algorithm: 'HS256',
      keyid: this.signing.kid,
      issuer: this.settings.issuer,
      audience: this.settings.audience,
      expiresIn: this.settings.ttlSeconds,
    });
  }

  verify(token: string): Principal {
    const decoded = jwt.decode(token, { complete: true });
    const kid = decoded?.header.kid;
    const secret = kid ? this.byKid.get(kid) : undefined;
    if (!decoded || !secret) throw new InvalidToken('token is malformed or signed with an unknown key');
    let claims: jwt.JwtPayload;
    try {
      claims = jwt.verify(token, secret, {
        algorithms: ['HS256'],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
      }) as jwt.JwtPayload;
    } catch (e) {
      throw new InvalidToken((e as Error).message);
    }
    const { sub, typ, acc } = claims as jwt.JwtPayload & Partial<Claims>;
    if (typeof sub !== 'string') throw new InvalidToken('token has no subject');
    if (typ === 'operator') return { kind: 'operator', id: sub };
    if ((typ === 'root' || typ === 'sub') && typeof acc === 'string')
      return { kind: typ, id: sub, accountId: acc };
    throw new InvalidToken('token has an unknown principal type');
  }
}

/** `kid1:secret1,kid2:secret2` as in FJORD_JWT_KEYS. */
export function parseSigningKeys(text: string): SigningKey[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf(':');
      if (at <= 0) throw new Error(`JWT key '${entry.slice(0, 8)}…' is not kid:secret`);
      return { kid: entry.slice(0, at), secret: entry.slice(at + 1) };
    });
}
