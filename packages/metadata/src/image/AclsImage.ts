import { type AclBinding, type AclBindingFilter, filterMatches } from '../acl/AclBinding.js';
import type { SecurityRecord } from '../security/SecurityRecords.js';

/** Every ACL in the cluster, by the id its AccessControlEntry record gave it. */
export class AclsImage {
  static readonly EMPTY = new AclsImage(new Map());

  constructor(readonly byId: ReadonlyMap<string, AclBinding>) {}

  /** Bindings a DescribeAcls / DeleteAcls filter selects, with their ids. */
  matching(filter: AclBindingFilter): [string, AclBinding][] {
    const out: [string, AclBinding][] = [];
    for (const entry of this.byId) if (filterMatches(filter, entry[1])) out.push(entry);
    return out;
  }
}

/** Applies ACL records on top of an AclsImage, copying its map once. */
export class AclsDelta {
  private byId?: Map<string, AclBinding>;

  constructor(private readonly base: AclsImage) {}

  replay(record: Extract<SecurityRecord, { type: 'AccessControlEntry' | 'RemoveAccessControlEntry' }>): void {
    this.byId ??= new Map(this.base.byId);
    if (record.type === 'RemoveAccessControlEntry') {
      this.byId.delete(record.id);
      return;
    }
    const { type: _type, id, ...binding } = record;
    this.byId.set(id, binding);
  }

  image(): AclsImage {
    return this.byId ? new AclsImage(this.byId) : this.base;
  }
}
