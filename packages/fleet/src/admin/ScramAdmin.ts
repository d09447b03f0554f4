import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { alterUserScramCredentialsV0, describeUserScramCredentialsV0 } from '@platformatic/kafka';
import { withBrokerConnection } from './brokerConnection.js';
import { type AdminCredential, AdminError } from './InstanceAdmin.js';
import { kafkaErrorType } from './kafkaErrors.js';

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

const MECHANISM_CODE: Record<ScramMechanism, 1 | 2> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };
const CODE_MECHANISM: Record<number, ScramMechanism> = { 1: 'SCRAM-SHA-256', 2: 'SCRAM-SHA-512' };
const ITERATIONS = 8192;
const SCRAM_ADMIN = { clientId: 'fjord-control-plane', purpose: 'SCRAM admin', kafkaType: kind };

export interface ScramUser {
  readonly name: string;
  readonly mechanisms: ScramMechanism[];
}

/** Kafka error codes of AlterUserScramCredentials that a repeat of the same change may meet. */
const RESOURCE_NOT_FOUND = 91;

/**
 * SCRAM users through Describe/AlterUserScramCredentials (kafkajs has neither, so this speaks
 * them with @platformatic/kafka's protocol layer). The password is salted here, as Kafka's own
 * admin client does: only the salted form travels and is stored.
 */
export class ScramAdmin {
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly credential: AdminCredential,
  ) {}

  list(): Promise<ScramUser[]> {
    return withBrokerConnection(
      { host: this.host, port: this.port, credential: this.credential },
      SCRAM_ADMIN,
      async (c) => {
        const r = await describeUserScramCredentialsV0.api.async(c, []);
        if (r.errorCode !== 0)
          throw new AdminError(`DescribeUserScramCredentials: ${r.errorMessage ?? r.errorCode}`);
        return r.results
          .filter((u) => u.errorCode === 0)
          .map((u) => ({
            name: u.user,
            mechanisms: u.credentialInfos
              .map((i) => CODE_MECHANISM[i.mechanism])
              .filter((m): m is ScramMechanism => !!m),
          }))
          .sort((a, b) => a.name.localeCompare(b.name));
      },
    );
  }

  upsert(name: string, mechanism: ScramMechanism, password: string): Promise<void> {
    const salt = randomBytes(32);
    const hash = mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
    const saltedPassword = pbkdf2Sync(password, salt, ITERATIONS, hash === 'sha256' ? 32 : 64, hash);
    return withBrokerConnection(
      { host: this.host, port: this.port, credential: this.credential },
      SCRAM_ADMIN,
      async (c) => {
        const r = await alterUserScramCredentialsV0.api.async(
          c,
          [],
          [{ name, mechanism: MECHANISM_CODE[mechanism], iterations: ITERATIONS, salt, saltedPassword }],
        );
        const failed = r.results.find((x) => x.errorCode !== 0);
        if (failed)
          throw new AdminError(
            `AlterUserScramCredentials ${name}: ${failed.errorMessage ?? failed.errorCode}`,
          );
      },
    );
  }

  delete(name: string, mechanism: ScramMechanism): Promise<void> {
    return withBrokerConnection(
      { host: this.host, port: this.port, credential: this.credential },
      SCRAM_ADMIN,
      async (c) => {
        const r = await alterUserScramCredentialsV0.api.async(
          c,
          [{ name, mechanism: MECHANISM_CODE[mechanism] }],
          [],
        );
        const failed = r.results.find((x) => x.errorCode !== 0 && x.errorCode !== RESOURCE_NOT_FOUND);
        if (failed)
          throw new AdminError(
            `AlterUserScramCredentials ${name}: ${failed.errorMessage ?? failed.errorCode}`,
          );
      },
    );
  }
}

function kind(e: Error & { code?: string }): string | undefined {
  return kafkaErrorType(e) === 'UNSUPPORTED_VERSION' ? 'UNSUPPORTED_VERSION' : e.code;
}
