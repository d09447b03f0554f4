import { createHash, createHmac } from 'node:crypto';
import type { ErrorCodeName } from '@fjord/protocol';
import type { MetadataImage } from '../image/MetadataImage.js';
import type { MetadataRecord } from '../records.js';
import type { ScramMechanismName } from '../security/SecurityRecords.js';
import type { ItemResult } from './AclPlanner.js';

/** Kafka's ScramMechanism type codes on the wire (1, 2); anything else is UNKNOWN. */
export const SCRAM_MECHANISM_CODES: Readonly<Record<number, ScramMechanismName>> = {
  1: 'SCRAM-SHA-256',
  2: 'SCRAM-SHA-512',
};
export const SCRAM_MECHANISM_CODE: Readonly<Record<ScramMechanismName, number>> = {
  'SCRAM-SHA-256': 1,
  'SCRAM-SHA-512': 2,
};

/** ScramMechanism.minIterations (4096 for both) and ScramControlManager.MAX_ITERATIONS. */
export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 16384;

const HASH: Record<ScramMechanismName, 'sha256' | 'sha512'> = {
  'SCRAM-SHA-256': 'sha256',
  'SCRAM-SHA-512': 'sha512',
};

/**
 * RFC 5802: ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = H(ClientKey),
 * ServerKey = HMAC(SaltedPassword, "Server Key"). The one derivation the controller (stored
 * credentials), the broker's SCRAM server and its inter-broker client share.
 */
export function scramKeys(mechanism: ScramMechanismName, saltedPassword: Buffer) {
  const hash = HASH[mechanism];
  const clientKey = createHmac(hash, saltedPassword).update('Client Key').digest();
  return {
    clientKey,
    storedKey: createHash(hash).update(clientKey).digest(),
    serverKey: createHmac(hash, saltedPassword).update('Server Key').digest(),
  };
}

export interface ScramDeletion {
  readonly name: string;
  readonly mechanism: number;
}

export interface ScramUpsertion {
  readonly name: string;
  readonly mechanism: number;
  readonly iterations: number;
  readonly salt: Buffer;
  readonly saltedPassword: Buffer;
}

export interface AlterScramPlan {
  readonly ok: true;
  readonly records: MetadataRecord[];
  /** Per user, in Kafka's order: deletions, upsertions, then failures. */
  readonly results: (ItemResult & { readonly user: string })[];
}

function validateNameAndMechanism(name: string, mechanism: number): ItemResult | undefined {
  if (name === '') return { error: 'UNACCEPTABLE_CREDENTIAL', message: 'Username must not be empty' };
  if (!SCRAM_MECHANISM_CODES[mechanism])
    return { error: 'UNSUPPORTED_SASL_MECHANISM', message: 'Unknown SCRAM mechanism' };
  return undefined;
}

/**
 * AlterUserScramCredentials, as ScramControlManager.alterCredentials: a user may appear once per
 * request (else DUPLICATE_RESOURCE), deleting a credential that does not exist is
 * RESOURCE_NOT_FOUND, iterations must lie in [4096, 16384]. The client sends the salted password;
 * only the derived StoredKey and ServerKey are kept.
 */
export function planAlterUserScramCredentials(
  image: MetadataImage,
  deletions: readonly ScramDeletion[],
  upsertions: readonly ScramUpsertion[],
): AlterScramPlan {
  const toDelete = new Map<string, ScramDeletion>();
  const toUpsert = new Map<string, ScramUpsertion>();
  const failed = new Map<string, ItemResult>();
  const duplicate: ItemResult = {
    error: 'DUPLICATE_RESOURCE',
    message: 'A user credential cannot be altered twice in the same request',
  };
  for (const d of deletions) {
    if (failed.has(d.name)) continue;
    if (toDelete.delete(d.name)) {
      failed.set(d.name, duplicate);
      continue;
    }
    const invalid =
      validateNameAndMechanism(d.name, d.mechanism) ??
      (image.scram.get(d.name, SCRAM_MECHANISM_CODES[d.mechanism]!)
        ? undefined
        : {
            error: 'RESOURCE_NOT_FOUND' as ErrorCodeName,
            message: 'Attempt to delete a user credential that does not exist',
          });
    if (invalid) failed.set(d.name, invalid);
    else toDelete.set(d.name, d);
  }
  for (const u of upsertions) {
    if (failed.has(u.name)) continue;
    if (toDelete.delete(u.name) || toUpsert.delete(u.name)) {
      failed.set(u.name, duplicate);
      continue;
    }
    const invalid =
      validateNameAndMechanism(u.name, u.mechanism) ??
      (u.iterations < SCRAM_MIN_ITERATIONS
        ? { error: 'UNACCEPTABLE_CREDENTIAL' as ErrorCodeName, message: 'Too few iterations' }
        : u.iterations > SCRAM_MAX_ITERATIONS
          ? { error: 'UNACCEPTABLE_CREDENTIAL' as ErrorCodeName, message: 'Too many iterations' }
          : undefined);
    if (invalid) failed.set(u.name, invalid);
    else toUpsert.set(u.name, u);
  }
  const records: MetadataRecord[] = [];
  const results: (ItemResult & { user: string })[] = [];
  for (const d of toDelete.values()) {
    records.push({
      type: 'RemoveUserScramCredential',
      name: d.name,
      mechanism: SCRAM_MECHANISM_CODES[d.mechanism]!,
    });
    results.push({ user: d.name, error: null, message: null });
  }
  for (const u of toUpsert.values()) {
    const mechanism = SCRAM_MECHANISM_CODES[u.mechanism]!;
    const { storedKey, serverKey } = scramKeys(mechanism, u.saltedPassword);
    records.push(scramCredentialRecord(u.name, mechanism, u.salt, u.iterations, storedKey, serverKey));
    results.push({ user: u.name, error: null, message: null });
  }
  for (const [user, r] of failed) results.push({ user, ...r });
  return { ok: true, records, results };
}

export function scramCredentialRecord(
  name: string,
  mechanism: ScramMechanismName,
  salt: Buffer,
  iterations: number,
  storedKey: Buffer,
  serverKey: Buffer,
): MetadataRecord {
  return {
    type: 'UserScramCredential',
    name,
    mechanism,
    salt: salt.toString('base64'),
    storedKey: storedKey.toString('base64'),
    serverKey: serverKey.toString('base64'),
    iterations,
  };
}

export interface ScramDescription {
  readonly user: string;
  readonly error: ErrorCodeName | null;
  readonly message: string | null;
  readonly credentials: readonly { readonly mechanism: number; readonly iterations: number }[];
}

/** DescribeUserScramCredentials, as ScramImage.describe: null or empty asks for every user. */
export function describeUserScramCredentials(
  image: MetadataImage,
  users: readonly string[] | null,
): ScramDescription[] {
  const all = image.scram.users();
  const wanted = new Map<string, boolean>();
  if (users === null || users.length === 0) for (const u of all.keys()) wanted.set(u, false);
  else for (const u of users) wanted.set(u, wanted.has(u));
  return [...wanted].map(([user, duplicated]) => {
    if (duplicated)
      return {
        user,
        error: 'DUPLICATE_RESOURCE',
        message: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
        credentials: [],
      };
    const creds = all.get(user);
    if (!creds)
      return {
        user,
        error: 'RESOURCE_NOT_FOUND',
        message: `Attempt to describe a user credential that does not exist: ${user}`,
        credentials: [],
      };
    return {
      user,
      error: null,
      message: null,
      credentials: creds.map((c) => ({
        mechanism: SCRAM_MECHANISM_CODE[c.mechanism],
        iterations: c.iterations,
      })),
    };
  });
}
