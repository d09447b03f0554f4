import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Principal } from './principal.js';

export interface SigningKey {
  readonly kid: string;
  readonly secret: string;
}

export interface TokenSettings {
  /**
   * Every key verifies; `signingKid` (default: the first) signs. Rotation: list the new key on every
   * API process, then make it the signing key, then drop the old one once `maxLifetimeSeconds` passed.
   */
  readonly keys: readonly SigningKey[];
  readonly signingKid?: string;
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  /** Tokens without `exp`, or valid for longer than this, are refused whoever signed them. */
  readonly maxLifetimeSeconds: number;
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
    if (settings.ttlSeconds > settings.maxLifetimeSeconds)
      throw new Error(
        `token TTL ${settings.ttlSeconds}s exceeds the maximum token lifetime ${settings.maxLifetimeSeconds}s`,
      );
    this.byKid = new Map(settings.keys.map((k) => [k.kid, createSecretKey(Buffer.from(k.secret))]));
    const kid = settings.signingKid ?? settings.keys[0]!.kid;
    const key = this.byKid.get(kid);
    if (!key) throw new Error(`the signing key ${kid} is not among the configured JWT keys`);
    this.signing = { kid, key };
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
    const lifetime = boundedLifetime(claims, Date.now() / 1000, this.settings.maxLifetimeSeconds);
    if (lifetime) throw new InvalidToken(lifetime);
    const { sub, typ, acc } = claims as jwt.JwtPayload & Partial<Claims>;
    if (typeof sub !== 'string') throw new InvalidToken('token has no subject');
    if (typ === 'operator') return { kind: 'operator', id: sub };
    if ((typ === 'root' || typ === 'sub') && typeof acc === 'string')
      return { kind: typ, id: sub, accountId: acc };
    throw new InvalidToken('token has an unknown principal type');
  }
}

/**
 * Why a verified token's validity window is refused, or undefined when it is acceptable: it must
 * expire, and neither from its issue time nor from now may it last longer than the maximum.
 */
export function boundedLifetime(
  claims: { exp?: unknown; iat?: unknown },
  nowSeconds: number,
  maxLifetimeSeconds: number,
): string | undefined {
  if (typeof claims.exp !== 'number') return 'token has no expiry';
  const from = typeof claims.iat === 'number' ? Math.min(claims.iat, nowSeconds) : nowSeconds;
  if (claims.exp - from > maxLifetimeSeconds)
    return `token lifetime exceeds the maximum of ${maxLifetimeSeconds}s`;
  return undefined;
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
