import {
  type AclBinding,
  type AclsImage,
  PatternType,
  type ResourceTypeCode,
  WILDCARD_RESOURCE,
} from '@fjord/metadata';

interface TypeIndex {
  readonly literal: Map<string, AclBinding[]>;
  readonly prefixed: Map<string, AclBinding[]>;
  /** Distinct lengths of the prefixed names, so a lookup probes each length once. */
  prefixLengths: number[];
  readonly all: AclBinding[];
}

const EMPTY: readonly AclBinding[] = [];
const cache = new WeakMap<AclsImage, AclIndex>();

/**
 * ACLs indexed by resource type and name, built once per AclsImage (an image is immutable and a
 * new one exists only when ACLs changed). Finding the ACLs that apply to a resource costs a map
 * lookup per distinct prefix length, whatever the number of ACLs.
 */
export class AclIndex {
  private readonly byType = new Map<number, TypeIndex>();

  static of(image: AclsImage): AclIndex {
    let index = cache.get(image);
    if (!index) {
      index = new AclIndex(image);
      cache.set(image, index);
    }
    return index;
  }

  private constructor(image: AclsImage) {
    for (const b of image.byId.values()) {
      let t = this.byType.get(b.resourceType);
      if (!t) {
        t = { literal: new Map(), prefixed: new Map(), prefixLengths: [], all: [] };
        this.byType.set(b.resourceType, t);
      }
      t.all.push(b);
      const map = b.patternType === PatternType.PREFIXED ? t.prefixed : t.literal;
      const list = map.get(b.resourceName);
      if (list) list.push(b);
      else map.set(b.resourceName, [b]);
    }
    for (const t of this.byType.values())
      t.prefixLengths = [...new Set([...t.prefixed.keys()].map((k) => k.length))].sort((a, b) => a - b);
  }

  /** Calls `visit` for every ACL whose pattern covers the resource; stops when it returns true. */
  forEachApplicable(type: ResourceTypeCode, name: string, visit: (acl: AclBinding) => boolean): void {
    const t = this.byType.get(type);
    if (!t) return;
    for (const acl of t.literal.get(name) ?? EMPTY) if (visit(acl)) return;
    if (name !== WILDCARD_RESOURCE)
      for (const acl of t.literal.get(WILDCARD_RESOURCE) ?? EMPTY) if (visit(acl)) return;
    for (const len of t.prefixLengths) {
      if (len > name.length) break;
      for (const acl of t.prefixed.get(name.slice(0, len)) ?? EMPTY) if (visit(acl)) return;
    }
  }

  /** Every ACL on resources of this type. */
  ofType(type: ResourceTypeCode): readonly AclBinding[] {
    return this.byType.get(type)?.all ?? EMPTY;
  }
}
