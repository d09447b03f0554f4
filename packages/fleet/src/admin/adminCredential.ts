import { createHmac } from 'node:crypto';
import type { AdminCredential } from './InstanceAdmin.js';

export const ADMIN_USER = 'fjord-admin';
/** The principal brokers of an instance authenticate as to one another (a super user there). */
export const BROKER_USER = 'fjord-broker';

/**
 * The control plane's own SCRAM user on an instance (a super user there). Derived from a secret
 * the API and workers share, so no password is stored and each instance's differs.
 */
export function instanceAdminCredential(instanceId: string, secret: string): AdminCredential {
  return {
    username: ADMIN_USER,
    password: createHmac('sha256', secret).update(`admin:${instanceId}`).digest('base64url'),
  };
}

/**
 * The password of an instance's metadata store role in PostgreSQL (ADR 0013), derived like the
 * admin credential: every broker started later, and every retried provisioning step, gets the
 * same one without it being stored.
 */
export function instanceMetadataPassword(instanceId: string, secret: string): string {
  return createHmac('sha256', secret).update(`metadata:${instanceId}`).digest('base64url');
}

/** What an instance's brokers present to one another on the replication listener (ADR 0012). */
export function instanceBrokerCredential(instanceId: string, secret: string): AdminCredential {
  return {
    username: BROKER_USER,
    password: createHmac('sha256', secret).update(`broker:${instanceId}`).digest('base64url'),
  };
}
