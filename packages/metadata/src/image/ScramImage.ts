import type { ScramMechanismName, SecurityRecord } from '../security/SecurityRecords.js';

/** A stored SCRAM credential (RFC 5802 §2.2): never the password. */
export interface ScramCredentialData {
  readonly mechanism: ScramMechanismName;
  readonly salt: Buffer;
  readonly iterations: number;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

export const SCRAM_MECHANISMS: readonly ScramMechanismName[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

const key = (user: string, mechanism: ScramMechanismName) => `${mechanism}\u0000${user}`;

/** SCRAM credentials by user and mechanism, as KRaft's ScramImage. */
export class ScramImage {
  static readonly EMPTY = new ScramImage(new Map());

  constructor(private readonly credentials: ReadonlyMap<string, ScramCredentialData>) {}

  get(user: string, mechanism: ScramMechanismName): ScramCredentialData | undefined {
    return this.credentials.get(key(user, mechanism));
  }

  /** Users with at least one credential, each with its credentials in mechanism order. */
  users(): Map<string, ScramCredentialData[]> {
    const out = new Map<string, ScramCredentialData[]>();
    for (const mechanism of SCRAM_MECHANISMS)
      for (const [k, c] of this.credentials) {
        if (c.mechanism !== mechanism) continue;
        const user = k.slice(mechanism.length + 1);
        const list = out.get(user) ?? [];
        list.push(c);
        out.set(user, list);
      }
    return out;
  }

  get size(): number {
    return this.credentials.size;
  }

  /** @internal for the delta */
  entries(): ReadonlyMap<string, ScramCredentialData> {
    return this.credentials;
  }
}

export class ScramDelta {
  private credentials?: Map<string, ScramCredentialData>;

  constructor(private readonly base: ScramImage) {}

  replay(
    record: Extract<SecurityRecord, { type: 'UserScramCredential' | 'RemoveUserScramCredential' }>,
  ): void {
    this.credentials ??= new Map(this.base.entries());
    if (record.type === 'RemoveUserScramCredential') {
      this.credentials.delete(key(record.name, record.mechanism));
      return;
    }
    this.credentials.set(key(record.name, record.mechanism), {
      mechanism: record.mechanism,
      salt: Buffer.from(record.salt, 'base64'),
      iterations: record.iterations,
      storedKey: Buffer.from(record.storedKey, 'base64'),
      serverKey: Buffer.from(record.serverKey, 'base64'),
    });
  }

  image(): ScramImage {
    return this.credentials ? new ScramImage(this.credentials) : this.base;
  }
}
