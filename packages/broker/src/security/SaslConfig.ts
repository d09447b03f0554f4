import { randomBytes } from 'node:crypto';
import { authenticatePlain, type PlainUsers } from './PlainAuthenticator.js';
import { type SaslStep, ScramAuthenticator, type ScramCredentialLookup } from './ScramAuthenticator.js';
import { type ScramMechanism, saltedPassword } from './ScramCredential.js';

/** A `--add-scram` user: salted as a client would for AlterUserScramCredentials; the password is not kept. */
export interface BootstrapScramCredential {
  readonly name: string;
  readonly mechanism: ScramMechanism;
  readonly salt: Buffer;
  readonly iterations: number;
  readonly saltedPassword: Buffer;
}

export const SUPPORTED_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

export class SaslConfigError extends Error {}

/**
 * SASL settings the way Kafka spells them: PLAIN users from inline JAAS configs
 * (`listener.name.<listener>.plain.sasl.jaas.config` or `sasl.jaas.config`, entries
 * `user_<name>="<password>"`), enabled mechanisms from `[listener.name.<listener>.]sasl.enabled.mechanisms`,
 * and SCRAM users bootstrapped with kafka-storage's syntax
 * (`SCRAM-SHA-256=[name=alice,password=alice-secret]`). Only salted SCRAM credentials are kept;
 * they are written to the metadata log at startup, and authentication reads SCRAM credentials
 * from the metadata image, so users added with AlterUserScramCredentials work on every broker.
 */
export class SaslConfig {
  private readonly scram = new Map<string, BootstrapScramCredential>();

  constructor(
    private readonly raw: ReadonlyMap<string, string>,
    scramUsers: readonly string[] = [],
    /** `connections.max.reauth.ms` (0: sessions never expire). */
    private readonly defaultReauthMs = 0,
  ) {
    for (const spec of scramUsers) this.addScram(spec);
    for (const [key, value] of raw) {
      if (key.endsWith('sasl.enabled.mechanisms'))
        for (const m of value
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean))
          if (!(SUPPORTED_MECHANISMS as readonly string[]).includes(m))
            throw new SaslConfigError(
              `Invalid value for configuration ${key}: mechanism ${m} is not supported (${SUPPORTED_MECHANISMS.join(', ')})`,
            );
    }
  }

  /** `SCRAM-SHA-256=[name=alice,password=alice-secret,iterations=8192]`. */
  addScram(spec: string): void {
    const m = /^(SCRAM-SHA-256|SCRAM-SHA-512)=\[(.*)\]$/.exec(spec.trim());
    if (!m) throw new SaslConfigError(`--add-scram expects MECHANISM=[name=...,password=...], got '${spec}'`);
    const fields = new Map(
      m[2]!.split(',').map((kv) => {
        const eq = kv.indexOf('=');
        return [
          kv.slice(0, eq).trim(),
          kv
            .slice(eq + 1)
            .trim()
            .replace(/^"(.*)"$/, '$1'),
        ] as const;
      }),
    );
    const name = fields.get('name');
    const password = fields.get('password');
    if (!name || !password) throw new SaslConfigError(`--add-scram needs name and password: '${spec}'`);
    const iterations = Number(fields.get('iterations') ?? 4096);
    if (!Number.isInteger(iterations) || iterations < 4096)
      throw new SaslConfigError('SCRAM iterations must be at least 4096');
    const mechanism = m[1] as ScramMechanism;
    const salt = randomBytes(32);
    this.scram.set(`${mechanism}\u0000${name}`, {
      name,
      mechanism,
      salt,
      iterations,
      saltedPassword: saltedPassword(mechanism, password, salt, iterations),
    });
  }

  /** The `--add-scram` credentials, salted, to bootstrap into the metadata log. */
  get bootstrapScram(): BootstrapScramCredential[] {
    return [...this.scram.values()];
  }

  private get(listener: string, suffix: string): string | undefined {
    return this.raw.get(`listener.name.${listener.toLowerCase()}.${suffix}`) ?? this.raw.get(suffix);
  }

  mechanisms(listener: string): string[] {
    const configured = this.get(listener, 'sasl.enabled.mechanisms');
    return configured
      ? configured
          .split(',')
          .map((m) => m.trim())
          .filter(Boolean)
      : [...SUPPORTED_MECHANISMS];
  }

  /**
   * Session lifetime for a mechanism on a listener (KIP-368): `listener.name.<l>.<mechanism>.connections.max.reauth.ms`,
   * else `listener.name.<l>.connections.max.reauth.ms`, else `connections.max.reauth.ms`.
   */
  reauthMs(listener: string, mechanism: string): number {
    const l = listener.toLowerCase();
    const v =
      this.raw.get(`listener.name.${l}.${mechanism.toLowerCase()}.connections.max.reauth.ms`) ??
      this.raw.get(`listener.name.${l}.connections.max.reauth.ms`);
    if (v === undefined) return this.defaultReauthMs;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new SaslConfigError(`Invalid value ${v} for connections.max.reauth.ms on listener ${listener}`);
    return n;
  }

  plainUsers(listener: string): PlainUsers {
    const jaas = this.get(listener, 'plain.sasl.jaas.config') ?? this.get(listener, 'sasl.jaas.config') ?? '';
    const users = new Map<string, string>();
    for (const m of jaas.matchAll(/user_([^=\s]+)\s*=\s*"([^"]*)"/g)) users.set(m[1]!, m[2]!);
    return users;
  }

  /** A fresh authenticator for one exchange of `mechanism` on `listener`; SCRAM users come from `scram`. */
  authenticator(
    listener: string,
    mechanism: string,
    scram: ScramCredentialLookup,
  ): (token: Buffer) => SaslStep {
    if (mechanism === 'PLAIN') {
      const users = this.plainUsers(listener);
      return (token) => authenticatePlain(token, users);
    }
    const exchange = new ScramAuthenticator(mechanism as ScramMechanism, scram);
    return (token) => exchange.step(token);
  }
}
