import { Connection } from '@platformatic/kafka';
import { type AdminCredential, AdminError } from './InstanceAdmin.js';

export interface BrokerTarget {
  readonly host: string;
  readonly port: number;
  readonly credential: AdminCredential;
}

export interface ConnectionUse {
  /** client.id on the wire, so that the broker's logs tell the callers apart. */
  readonly clientId: string;
  /** Prefix of error messages: what the connection was for. */
  readonly purpose: string;
  /** The AdminError's kafkaType for a failure, when the caller classifies them. */
  readonly kafkaType?: (e: Error & { code?: string }) => string | undefined;
}

/**
 * One SCRAM-SHA-512 connection to one broker for the length of `fn`, always closed after.
 * Failures other than AdminErrors become AdminErrors naming the purpose and the broker.
 */
export async function withBrokerConnection<T>(
  target: BrokerTarget,
  use: ConnectionUse,
  fn: (c: Connection) => Promise<T>,
): Promise<T> {
  const c = new Connection(use.clientId, {
    connectTimeout: 3000,
    sasl: {
      mechanism: 'SCRAM-SHA-512',
      username: target.credential.username,
      password: target.credential.password,
    },
  });
  try {
    await c.connect(target.host, target.port);
    return await fn(c);
  } catch (e) {
    if (e instanceof AdminError) throw e;
    const err = e as Error & { errors?: Error[]; code?: string };
    throw new AdminError(
      `${use.purpose} on ${target.host}:${target.port}: ${err.errors?.[0]?.message ?? err.message}`,
      use.kafkaType?.(err),
    );
  } finally {
    await c.close().catch(() => {});
  }
}
