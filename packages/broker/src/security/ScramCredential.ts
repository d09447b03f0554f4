import { createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { scramKeys } from '@fjord/metadata';

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export const SCRAM_HASH: Record<ScramMechanism, 'sha256' | 'sha512'> = {
  'SCRAM-SHA-256': 'sha256',
  'SCRAM-SHA-512': 'sha512',
};

/** What the broker stores for a SCRAM user: never the password (RFC 5802 §2.2). */
export interface ScramCredential {
  readonly mechanism: ScramMechanism;
  readonly salt: Buffer;
  readonly iterations: number;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

export const MIN_ITERATIONS = 4096;

export function hmac(hash: string, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(hash, key).update(data).digest();
}

/** RFC 5802 SaltedPassword: PBKDF2 of the (NFKC-normalised) password. */
export function saltedPassword(
  mechanism: ScramMechanism,
  password: string,
  salt: Buffer,
  iterations: number,
): Buffer {
  const hash = SCRAM_HASH[mechanism];
  return pbkdf2Sync(
    Buffer.from(password.normalize('NFKC'), 'utf8'),
    salt,
    iterations,
    hash === 'sha256' ? 32 : 64,
    hash,
  );
}

/** Byte-wise XOR of two equally long buffers (ClientProof = ClientKey XOR ClientSignature, and back). */
export function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Derives the stored credential from a password (salted, iterated; the password is dropped). */
export function scramCredential(
  mechanism: ScramMechanism,
  password: string,
  iterations = MIN_ITERATIONS,
  salt: Buffer = randomBytes(32),
): ScramCredential {
  const { storedKey, serverKey } = scramKeys(
    mechanism,
    saltedPassword(mechanism, password, salt, iterations),
  );
  return { mechanism, salt, iterations, storedKey, serverKey };
}
