import {
  type AclBinding,
  AclOperation,
  type AclOperationCode,
  AclPermissionType,
  type AclsImage,
  PatternType,
  ResourceType,
  type ResourceTypeCode,
  WILDCARD_HOST,
  WILDCARD_PRINCIPAL,
  WILDCARD_RESOURCE,
} from '@fjord/metadata';
import { AclIndex } from './AclIndex.js';

export interface AuthorizerConfig {
  /** `super.users`: principals allowed everything, whatever the ACLs say. */
  readonly superUsers: ReadonlySet<string>;
  /** `allow.everyone.if.no.acl.found`: the answer for a resource no ACL mentions. */
  readonly allowEveryoneIfNoAclFound: boolean;
}

/** Who asks: the session principal (`User:alice`) and the client's IP address. */
export interface Requester {
  readonly principal: string;
  readonly host: string;
}

/** Why a decision came out as it did, for the audit log. */
export type AuthorizationRule =
  | { readonly kind: 'SuperUser' | 'DefaultAllow' | 'DefaultDeny' }
  | { readonly kind: 'Allow' | 'Deny'; readonly acl: AclBinding };

/** Operations that an ALLOW for them also grants DESCRIBE / DESCRIBE_CONFIGS (never for DENY). */
const IMPLIES_DESCRIBE: ReadonlySet<number> = new Set([
  AclOperation.DESCRIBE,
  AclOperation.READ,
  AclOperation.WRITE,
  AclOperation.DELETE,
  AclOperation.ALTER,
]);
const IMPLIES_DESCRIBE_CONFIGS: ReadonlySet<number> = new Set([
  AclOperation.DESCRIBE_CONFIGS,
  AclOperation.ALTER_CONFIGS,
]);

/** AclEntry.supportedOperations: what authorized-operations bit fields report per resource type. */
export const SUPPORTED_OPERATIONS: Readonly<Record<number, readonly AclOperationCode[]>> = {
  [ResourceType.TOPIC]: [
    AclOperation.READ,
    AclOperation.WRITE,
    AclOperation.CREATE,
    AclOperation.DESCRIBE,
    AclOperation.DELETE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
  ],
  [ResourceType.GROUP]: [
    AclOperation.READ,
    AclOperation.DESCRIBE,
    AclOperation.DELETE,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
  ],
  [ResourceType.CLUSTER]: [
    AclOperation.CREATE,
    AclOperation.CLUSTER_ACTION,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
    AclOperation.IDEMPOTENT_WRITE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE,
  ],
  [ResourceType.TRANSACTIONAL_ID]: [AclOperation.DESCRIBE, AclOperation.WRITE],
  [ResourceType.DELEGATION_TOKEN]: [AclOperation.DESCRIBE],
  [ResourceType.USER]: [AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS],
};

/**
 * Kafka's StandardAuthorizer decision, as a pure function of the ACLs in an image: super users
 * may do anything; otherwise a matching DENY wins over any ALLOW; an ALLOW for READ, WRITE,
 * DELETE or ALTER also allows DESCRIBE, and ALTER_CONFIGS allows DESCRIBE_CONFIGS; a resource
 * that no ACL covers at all gets `allow.everyone.if.no.acl.found`. ACLs apply by LITERAL name,
 * the LITERAL wildcard `*`, or PREFIXED name; principals match exactly or through `User:*`,
 * hosts exactly or through `*`.
 */
export class Authorizer {
  constructor(readonly config: AuthorizerConfig) {}

  authorize(
    acls: AclsImage,
    who: Requester,
    operation: AclOperationCode,
    resourceType: ResourceTypeCode,
    resourceName: string,
  ): boolean {
    const rule = this.explain(acls, who, operation, resourceType, resourceName);
    return rule.kind === 'SuperUser' || rule.kind === 'DefaultAllow' || rule.kind === 'Allow';
  }

  explain(
    acls: AclsImage,
    who: Requester,
    operation: AclOperationCode,
    resourceType: ResourceTypeCode,
    resourceName: string,
  ): AuthorizationRule {
    if (this.config.superUsers.has(who.principal)) return { kind: 'SuperUser' };
    let allow: AclBinding | undefined;
    let deny: AclBinding | undefined;
    let hasResourceAcls = false;
    AclIndex.of(acls).forEachApplicable(resourceType, resourceName, (acl) => {
      hasResourceAcls = true;
      const result = matchResult(acl, who, operation);
      if (result === 'deny') {
        deny = acl;
        return true;
      }
      if (result === 'allow') allow = acl;
      return false;
    });
    if (deny) return { kind: 'Deny', acl: deny };
    if (allow) return { kind: 'Allow', acl: allow };
    if (hasResourceAcls) return { kind: 'DefaultDeny' };
    return { kind: this.config.allowEveryoneIfNoAclFound ? 'DefaultAllow' : 'DefaultDeny' };
  }

  /**
   * Whether the requester may perform `operation` on at least one resource of the type, as
   * Authorizer.authorizeByResourceType: an ALLOW on a literal or prefixed name that no DENY of
   * the same literal name or of a covering prefix cancels (used for idempotent producers,
   * which need WRITE on some topic).
   */
  authorizeByResourceType(
    acls: AclsImage,
    who: Requester,
    operation: AclOperationCode,
    resourceType: ResourceTypeCode,
  ): boolean {
    // A hard-coded name, so super users (and the no-ACL default) are honoured despite DENY ACLs.
    if (this.authorize(acls, who, operation, resourceType, 'hardcode')) return true;
    const denyLiteral = new Set<string>();
    const denyPrefixed = new Set<string>();
    const allowLiteral = new Set<string>();
    const allowPrefixed = new Set<string>();
    let wildcardAllow = false;
    for (const acl of AclIndex.of(acls).ofType(resourceType)) {
      if (acl.host !== who.host && acl.host !== WILDCARD_HOST) continue;
      if (acl.principal !== who.principal && acl.principal !== WILDCARD_PRINCIPAL) continue;
      if (acl.operation !== operation && acl.operation !== AclOperation.ALL) continue;
      const literal = acl.patternType === PatternType.LITERAL;
      if (acl.permissionType === AclPermissionType.DENY) {
        if (literal && acl.resourceName === WILDCARD_RESOURCE) return false;
        (literal ? denyLiteral : denyPrefixed).add(acl.resourceName);
      } else if (acl.permissionType === AclPermissionType.ALLOW) {
        if (literal && acl.resourceName === WILDCARD_RESOURCE) wildcardAllow = true;
        else (literal ? allowLiteral : allowPrefixed).add(acl.resourceName);
      }
    }
    if (wildcardAllow) return true;
    const dominated = (name: string) => {
      for (let i = 1; i <= name.length; i++) if (denyPrefixed.has(name.slice(0, i))) return true;
      return false;
    };
    for (const name of allowLiteral) if (!denyLiteral.has(name) && !dominated(name)) return true;
    for (const name of allowPrefixed) if (!dominated(name)) return true;
    return false;
  }

  /** Kafka's authorized-operations bit field (bit n set: operation with code n allowed). */
  authorizedOperations(
    acls: AclsImage,
    who: Requester,
    resourceType: ResourceTypeCode,
    resourceName: string,
  ): number {
    let bits = 0;
    for (const op of SUPPORTED_OPERATIONS[resourceType] ?? [])
      if (this.authorize(acls, who, op, resourceType, resourceName)) bits |= 1 << op;
    return bits;
  }
}

/** StandardAuthorizerData.findResult: does this ACL (whose pattern applies) allow, deny, or say nothing? */
function matchResult(
  acl: AclBinding,
  who: Requester,
  operation: AclOperationCode,
): 'allow' | 'deny' | undefined {
  if (acl.principal !== who.principal && acl.principal !== WILDCARD_PRINCIPAL) return undefined;
  if (acl.host !== WILDCARD_HOST && acl.host !== who.host) return undefined;
  if (acl.operation !== AclOperation.ALL) {
    if (acl.permissionType === AclPermissionType.ALLOW) {
      if (operation === AclOperation.DESCRIBE) {
        if (!IMPLIES_DESCRIBE.has(acl.operation)) return undefined;
      } else if (operation === AclOperation.DESCRIBE_CONFIGS) {
        if (!IMPLIES_DESCRIBE_CONFIGS.has(acl.operation)) return undefined;
      } else if (operation !== acl.operation) return undefined;
    } else if (operation !== acl.operation) return undefined;
  }
  if (acl.permissionType === AclPermissionType.ALLOW) return 'allow';
  if (acl.permissionType === AclPermissionType.DENY) return 'deny';
  return undefined;
}
