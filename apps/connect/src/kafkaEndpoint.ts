import { instanceAdminCredential } from '@fjord/fleet';
import type { ConnectionOptions } from '@platformatic/kafka';
import { INSTANCE_DIAL } from './kafkaDialGuard.js';
import type { LeaseStore } from './LeaseStore.js';

/** Where a task connects as a Kafka client, and how (the client's own connection options). */
export interface KafkaEndpoint {
  readonly bootstrap: string[];
  readonly connection: Pick<ConnectionOptions, 'sasl' | 'tls' | 'tlsServerName' | 'context'>;
}

/**
 * A Fjord instance as the control plane reaches it: the CONTROL listener of its running brokers, as
 * its SCRAM super user (docs/adr/0004-control-plane.md), like the API's message browser.
 */
export async function instanceEndpoint(
  store: LeaseStore,
  instanceId: string,
  adminSecret: string,
): Promise<KafkaEndpoint> {
  const bootstrap = await store.controlEndpoints(instanceId);
  if (bootstrap.length === 0) throw new Error('the instance has no running brokers');
  const credential = instanceAdminCredential(instanceId, adminSecret);
  return {
    bootstrap,
    connection: {
      // Internal by design: the dial guard lets these through (kafkaDialGuard.ts).
      context: INSTANCE_DIAL,
      sasl: { mechanism: 'SCRAM-SHA-512', username: credential.username, password: credential.password },
    },
  };
}

/** Client options every connector client shares: fail fast, let the task's retry loop retry. */
export const CLIENT_DEFAULTS = { connectTimeout: 5000, requestTimeout: 30_000, retries: 0 } as const;
