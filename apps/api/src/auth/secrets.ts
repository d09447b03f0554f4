import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API key secrets are 256 random bits, so a fast hash is enough: nothing to brute-force, and a
 * slow KDF would only cost every token exchange. Only the hash is stored.
 */
export function newSecret(): string {
  return `fjs_${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
