import { isIP } from 'node:net';
import type { ErrorCodeName } from '@fjord/protocol';
import {
  type ClientQuotaEntry,
  QUOTA_ENTITY_CLIENT_ID,
  QUOTA_ENTITY_IP,
  QUOTA_ENTITY_USER,
  quotaEntityKey,
} from '../image/ClientQuotasImage.js';
import type { MetadataImage } from '../image/MetadataImage.js';
import type { MetadataRecord } from '../records.js';
import type { QuotaEntityPart } from '../security/SecurityRecords.js';
import type { ItemResult } from './AclPlanner.js';

/** Quota keys Kafka accepts per entity kind (QuotaConfig), with their value type. */
export const USER_CLIENT_QUOTA_KEYS: ReadonlyMap<string, 'long' | 'double'> = new Map([
  ['producer_byte_rate', 'long'],
  ['consumer_byte_rate', 'long'],
  ['request_percentage', 'double'],
  ['controller_mutation_rate', 'double'],
]);
export const IP_QUOTA_KEYS: ReadonlyMap<string, 'int'> = new Map([['connection_creation_rate', 'int']]);

export interface QuotaAlteration {
  readonly entity: readonly QuotaEntityPart[];
  /** `value` null removes the key. */
  readonly ops: readonly { readonly key: string; readonly value: number | null }[];
}

export interface AlterClientQuotasPlan {
  readonly ok: true;
  readonly records: MetadataRecord[];
  /** One per requested entity, in request order. */
  readonly results: ItemResult[];
}

const invalid = (message: string): ItemResult => ({ error: 'INVALID_REQUEST', message });

function validateEntity(
  entity: readonly QuotaEntityPart[],
): ItemResult | Map<string, 'long' | 'double' | 'int'> {
  if (entity.length === 0) return invalid('Invalid empty client quota entity');
  const types = new Set<string>();
  for (const p of entity) {
    if (types.has(p.entityType))
      return invalid(`Invalid client quota entity, duplicate entity entry ${p.entityType}`);
    if (![QUOTA_ENTITY_USER, QUOTA_ENTITY_CLIENT_ID, QUOTA_ENTITY_IP].includes(p.entityType))
      return invalid(`Unhandled client quota entity type: ${p.entityType}`);
    types.add(p.entityType);
  }
  if (types.has(QUOTA_ENTITY_IP)) {
    if (types.size > 1)
      return invalid(
        'Invalid quota entity combination, IP entity should not be combined with User or ClientId',
      );
    const ip = entity[0]!.entityName;
    if (ip !== null && isIP(ip) === 0) return invalid(`${ip} is not a valid IP or resolvable host.`);
    return new Map(IP_QUOTA_KEYS);
  }
  return new Map(USER_CLIENT_QUOTA_KEYS);
}

function validateValue(type: 'long' | 'double' | 'int', key: string, value: number): ItemResult | undefined {
  if (!(value > 0)) return invalid(`Quota ${key} must be greater than 0`);
  if (type === 'double') return undefined;
  if (type === 'int' && value > 2_147_483_647)
    return invalid(`Proposed value for ${key} is too large for an INT.`);
  if (type === 'long' && value > 2 ** 63)
    return invalid(`Proposed value for ${key} is too large for a LONG.`);
  if (Math.abs(value % 1) > 1e-6) return invalid(`${key} cannot be a fractional value.`);
  return undefined;
}

const describeEntity = (entity: readonly QuotaEntityPart[]) =>
  `ClientQuotaEntity(entries={${entity.map((p) => `${p.entityType}=${p.entityName}`).join(', ')}})`;

/**
 * AlterClientQuotas, as ClientQuotaControlManager.alterClientQuotas: an entity is valid on its
 * own (user and/or client-id, or ip alone), keys must suit it, values must be positive (and
 * whole for integral keys); only changed values produce records.
 */
export function planAlterClientQuotas(
  image: MetadataImage,
  alterations: readonly QuotaAlteration[],
): AlterClientQuotasPlan {
  const records: MetadataRecord[] = [];
  const seen = new Set<string>();
  const results = alterations.map((a): ItemResult => {
    const k = quotaEntityKey(a.entity);
    if (seen.has(k)) return invalid(`Ignoring duplicate entity ${describeEntity(a.entity)}`);
    seen.add(k);
    const keys = new Map<string, number | null>();
    for (const op of a.ops) {
      if (keys.has(op.key))
        return invalid(
          `Duplicate quota key ${op.key} not updating quota for this entity ${describeEntity(a.entity)}`,
        );
      keys.set(op.key, op.value);
    }
    const allowed = validateEntity(a.entity);
    if (!(allowed instanceof Map)) return allowed;
    const current = image.clientQuotas.entities.get(k)?.values ?? new Map<string, number>();
    const mine: MetadataRecord[] = [];
    for (const [key, value] of keys) {
      if (value === null) {
        if (current.has(key))
          mine.push({ type: 'ClientQuota', entity: a.entity, key, value: 0, remove: true });
        continue;
      }
      const type = allowed.get(key);
      if (!type) return invalid(`Invalid configuration key ${key}`);
      const bad = validateValue(type, key, value);
      if (bad) return bad;
      if (current.get(key) !== value)
        mine.push({ type: 'ClientQuota', entity: a.entity, key, value, remove: false });
    }
    records.push(...mine);
    return { error: null, message: null };
  });
  return { ok: true, records, results };
}

export const MatchType = { EXACT: 0, DEFAULT: 1, SPECIFIED: 2 } as const;

export interface QuotaFilterComponent {
  readonly entityType: string;
  readonly matchType: number;
  readonly match: string | null;
}

export type DescribeClientQuotasResult =
  | { readonly ok: true; readonly entries: ClientQuotaEntry[] }
  | { readonly ok: false; readonly error: ErrorCodeName; readonly message: string };

/** DescribeClientQuotas, as ClientQuotasImage.describe (exact / default / specified matches, strict). */
export function describeClientQuotas(
  image: MetadataImage,
  components: readonly QuotaFilterComponent[],
  strict: boolean,
): DescribeClientQuotasResult {
  const exact = new Map<string, string | null>();
  const specified = new Set<string>();
  const fail = (error: ErrorCodeName, message: string) => ({ ok: false as const, error, message });
  for (const c of components) {
    if (c.entityType === '') return fail('INVALID_REQUEST', 'Invalid empty entity type.');
    if (exact.has(c.entityType) || specified.has(c.entityType))
      return fail(
        'INVALID_REQUEST',
        `Entity type ${c.entityType} cannot appear more than once in the filter.`,
      );
    if (![QUOTA_ENTITY_IP, QUOTA_ENTITY_USER, QUOTA_ENTITY_CLIENT_ID].includes(c.entityType))
      return fail('UNSUPPORTED_VERSION', `Unsupported entity type ${c.entityType}`);
    if (c.matchType === MatchType.EXACT) {
      if (c.match === null)
        return fail('INVALID_REQUEST', 'Request specified MATCH_TYPE_EXACT, but set match string to null.');
      exact.set(c.entityType, c.match);
    } else if (c.matchType === MatchType.DEFAULT) {
      if (c.match !== null)
        return fail(
          'INVALID_REQUEST',
          'Request specified MATCH_TYPE_DEFAULT, but also specified a match string.',
        );
      exact.set(c.entityType, null);
    } else if (c.matchType === MatchType.SPECIFIED) {
      if (c.match !== null)
        return fail(
          'INVALID_REQUEST',
          'Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.',
        );
      specified.add(c.entityType);
    } else return fail('INVALID_REQUEST', `Unknown match type ${c.matchType}`);
  }
  const has = (t: string) => exact.has(t) || specified.has(t);
  if (has(QUOTA_ENTITY_IP) && (has(QUOTA_ENTITY_USER) || has(QUOTA_ENTITY_CLIENT_ID)))
    return fail(
      'INVALID_REQUEST',
      'Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.',
    );
  const entries: ClientQuotaEntry[] = [];
  for (const e of image.clientQuotas.entities.values()) {
    const parts = new Map(e.entity.map((p) => [p.entityType, p.entityName]));
    if (strict && parts.size !== exact.size + specified.size) continue;
    let ok = true;
    for (const [t, name] of exact) if (!parts.has(t) || parts.get(t) !== name) ok = false;
    for (const t of specified) if (!parts.has(t)) ok = false;
    if (ok) entries.push(e);
  }
  return { ok: true, entries };
}
