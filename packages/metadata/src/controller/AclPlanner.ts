import { randomUUID } from 'node:crypto';
import type { ErrorCodeName } from '@fjord/protocol';
import {
  type AclBinding,
  type AclBindingFilter,
  aclBindingKey,
  filterIsUnknown,
  invalidNewAcl,
} from '../acl/AclBinding.js';
import type { MetadataImage } from '../image/MetadataImage.js';
import type { MetadataRecord } from '../records.js';

/** Kafka's bound on the records one user operation may produce (Kafka's QuorumController). */
export const MAX_RECORDS_PER_USER_OP = 10_000;

export interface ItemResult {
  readonly error: ErrorCodeName | null;
  readonly message: string | null;
}

const OK: ItemResult = { error: null, message: null };

export interface CreateAclsPlan {
  readonly ok: true;
  readonly records: MetadataRecord[];
  /** One per requested binding, in request order. */
  readonly results: ItemResult[];
}

/**
 * CreateAcls, as AclControlManager.createAcls: each binding is validated on its own; a binding
 * equal to one that exists (or to an earlier one in the request) succeeds without a new record.
 */
export function planCreateAcls(
  image: MetadataImage,
  bindings: readonly AclBinding[],
  newId: () => string = randomUUID,
): CreateAclsPlan {
  const existing = new Set<string>();
  for (const b of image.acls.byId.values()) existing.add(aclBindingKey(b));
  const records: MetadataRecord[] = [];
  const results = bindings.map((b): ItemResult => {
    const invalid = invalidNewAcl(b);
    if (invalid) return { error: 'INVALID_REQUEST', message: invalid };
    const k = aclBindingKey(b);
    if (existing.has(k)) return OK;
    if (records.length >= MAX_RECORDS_PER_USER_OP)
      return {
        error: 'UNKNOWN_SERVER_ERROR',
        message: `Cannot create more than ${MAX_RECORDS_PER_USER_OP} acls in a single operation.`,
      };
    existing.add(k);
    records.push({ type: 'AccessControlEntry', id: newId(), ...b });
    return OK;
  });
  return { ok: true, records, results };
}

export interface DeleteAclsFilterResult extends ItemResult {
  readonly deleted: readonly AclBinding[];
}

export interface DeleteAclsPlan {
  readonly ok: true;
  readonly records: MetadataRecord[];
  readonly results: DeleteAclsFilterResult[];
}

/**
 * DeleteAcls, as AclControlManager.deleteAcls: every filter reports the bindings it matched
 * (a binding matched by two filters is reported by both, removed once).
 */
export function planDeleteAcls(image: MetadataImage, filters: readonly AclBindingFilter[]): DeleteAclsPlan {
  const removed = new Set<string>();
  const records: MetadataRecord[] = [];
  const results = filters.map((f): DeleteAclsFilterResult => {
    if (filterIsUnknown(f)) return { error: 'INVALID_REQUEST', message: 'Unknown filter.', deleted: [] };
    const matched = image.acls.matching(f);
    const fresh = matched.filter(([id]) => !removed.has(id));
    if (removed.size + fresh.length > MAX_RECORDS_PER_USER_OP)
      return {
        error: 'UNKNOWN_SERVER_ERROR',
        message: `Cannot remove more than ${MAX_RECORDS_PER_USER_OP} acls in a single delete operation.`,
        deleted: [],
      };
    for (const [id] of fresh) {
      removed.add(id);
      records.push({ type: 'RemoveAccessControlEntry', id });
    }
    return { ...OK, deleted: matched.map(([, b]) => b) };
  });
  return { ok: true, records, results };
}
