import { type ClientQuotasImage, userClientKey } from '@fjord/metadata';

export type ClientQuotaKey = 'producer_byte_rate' | 'consumer_byte_rate' | 'request_percentage';

/** Which sensor a client's usage counts against, and its bound. */
export interface ResolvedQuota {
  /** `user` / `client-id` tags of the shared sensor ('' where the quota is not per that part). */
  readonly sensorUser: string;
  readonly sensorClientId: string;
  readonly bound: number;
}

/**
 * Kafka's default client quota callback: the most specific quota entity that exists wins, in
 * the order user+client-id, user+default client-id, user, default user+client-id, default user+
 * default client-id, default user, client-id, default client-id. The entity also decides who
 * shares a sensor: a quota set on `user=alice` alone is shared by all of alice's clients, while
 * one on a client-id default gives every client-id its own.
 */
export function resolveClientQuota(
  image: ClientQuotasImage,
  key: ClientQuotaKey,
  user: string,
  clientId: string,
): ResolvedQuota | undefined {
  // Most brokers have no client quotas at all: then a request costs one size check.
  if (image.entities.size === 0) return undefined;
  const candidates: [string | null | undefined, string | null | undefined, string, string][] = [
    [user, clientId, user, clientId],
    [user, null, user, clientId],
    [user, undefined, user, ''],
    [null, clientId, user, clientId],
    [null, null, user, clientId],
    [null, undefined, user, ''],
    [undefined, clientId, '', clientId],
    [undefined, null, '', clientId],
  ];
  for (const [u, c, sensorUser, sensorClientId] of candidates) {
    const bound = image.value(userClientKey(u, c), key);
    if (bound !== undefined) return { sensorUser, sensorClientId, bound };
  }
  return undefined;
}

/** The quota user of a principal: its name (`User:alice` → `alice`), as KafkaPrincipal.getName. */
export function quotaUserOf(principal: string): string {
  const colon = principal.indexOf(':');
  return colon < 0 ? principal : principal.slice(colon + 1);
}
