import type { QuotaEntityPart, SecurityRecord } from '../security/SecurityRecords.js';

export const QUOTA_ENTITY_USER = 'user';
export const QUOTA_ENTITY_CLIENT_ID = 'client-id';
export const QUOTA_ENTITY_IP = 'ip';

/** One quota entity (e.g. user=alice, client-id=<default>) and the quota values set on it. */
export interface ClientQuotaEntry {
  /** Entity type → name; null is the type's default entity. Sorted by type. */
  readonly entity: readonly QuotaEntityPart[];
  readonly values: ReadonlyMap<string, number>;
}

/** Canonical key of an entity: its parts sorted by type. */
export function quotaEntityKey(entity: readonly QuotaEntityPart[]): string {
  return [...entity]
    .sort((a, b) => (a.entityType < b.entityType ? -1 : a.entityType > b.entityType ? 1 : 0))
    .map((p) => `${p.entityType}=${p.entityName === null ? '\u0001' : `\u0002${p.entityName}`}`)
    .join('\u0000');
}

/** Key of the entity with these user and client-id parts (undefined: the part is absent). */
export function userClientKey(user: string | null | undefined, clientId: string | null | undefined): string {
  const parts: QuotaEntityPart[] = [];
  if (clientId !== undefined) parts.push({ entityType: QUOTA_ENTITY_CLIENT_ID, entityName: clientId });
  if (user !== undefined) parts.push({ entityType: QUOTA_ENTITY_USER, entityName: user });
  return quotaEntityKey(parts);
}

/** Client quotas by entity, as KRaft's ClientQuotasImage. */
export class ClientQuotasImage {
  static readonly EMPTY = new ClientQuotasImage(new Map());

  constructor(readonly entities: ReadonlyMap<string, ClientQuotaEntry>) {}

  /** The value of `quotaKey` set on the entity with this key, if any. */
  value(entityKey: string, quotaKey: string): number | undefined {
    return this.entities.get(entityKey)?.values.get(quotaKey);
  }
}

export class ClientQuotasDelta {
  private entities?: Map<string, ClientQuotaEntry>;

  constructor(private readonly base: ClientQuotasImage) {}

  replay(record: Extract<SecurityRecord, { type: 'ClientQuota' }>): void {
    this.entities ??= new Map(this.base.entities);
    const k = quotaEntityKey(record.entity);
    const values = new Map(this.entities.get(k)?.values ?? []);
    if (record.remove) values.delete(record.key);
    else values.set(record.key, record.value);
    if (values.size === 0) this.entities.delete(k);
    else
      this.entities.set(k, {
        entity: [...record.entity].sort((a, b) => (a.entityType < b.entityType ? -1 : 1)),
        values,
      });
  }

  image(): ClientQuotasImage {
    return this.entities ? new ClientQuotasImage(this.entities) : this.base;
  }
}
