/**
 * Kafka's ACL vocabulary with its wire codes (org.apache.kafka.common.acl / resource). Codes
 * the protocol carries but Kafka does not know decode to UNKNOWN, as `fromCode` does there.
 */
export const ResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;

export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;

export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;

export const AclPermissionType = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

export type ResourceTypeCode = (typeof ResourceType)[keyof typeof ResourceType];
export type PatternTypeCode = (typeof PatternType)[keyof typeof PatternType];
export type AclOperationCode = (typeof AclOperation)[keyof typeof AclOperation];
export type AclPermissionTypeCode = (typeof AclPermissionType)[keyof typeof AclPermissionType];

/** The one name a CLUSTER resource has. */
export const CLUSTER_NAME = 'kafka-cluster';
/** A LITERAL resource name that matches every resource of its type. */
export const WILDCARD_RESOURCE = '*';
export const WILDCARD_PRINCIPAL = 'User:*';
export const WILDCARD_HOST = '*';

function decoder<T extends Record<string, number>>(table: T) {
  const known = new Set<number>(Object.values(table));
  return (code: number): T[keyof T] => (known.has(code) ? code : 0) as T[keyof T];
}
export const resourceTypeOf = decoder(ResourceType);
export const patternTypeOf = decoder(PatternType);
export const aclOperationOf = decoder(AclOperation);
export const permissionTypeOf = decoder(AclPermissionType);

const nameOf = <T extends Record<string, number>>(table: T, code: number) =>
  Object.entries(table).find(([, v]) => v === code)?.[0] ?? 'UNKNOWN';
export const resourceTypeName = (code: number) => nameOf(ResourceType, code);
export const operationName = (code: number) => nameOf(AclOperation, code);
export const patternTypeName = (code: number) => nameOf(PatternType, code);
export const permissionTypeName = (code: number) => nameOf(AclPermissionType, code);

/** A resource pattern plus an access control entry: one ACL, as Kafka's AclBinding. */
export interface AclBinding {
  readonly resourceType: ResourceTypeCode;
  readonly resourceName: string;
  readonly patternType: PatternTypeCode;
  readonly principal: string;
  readonly host: string;
  readonly operation: AclOperationCode;
  readonly permissionType: AclPermissionTypeCode;
}

/** What DescribeAcls and DeleteAcls select by; null names match anything. */
export interface AclBindingFilter {
  readonly resourceType: ResourceTypeCode;
  readonly resourceName: string | null;
  readonly patternType: PatternTypeCode;
  readonly principal: string | null;
  readonly host: string | null;
  readonly operation: AclOperationCode;
  readonly permissionType: AclPermissionTypeCode;
}

/** Identity of a binding: two equal keys are the same ACL (Kafka keeps one of them). */
export function aclBindingKey(b: AclBinding): string {
  return [
    b.resourceType,
    b.patternType,
    b.operation,
    b.permissionType,
    b.principal,
    b.host,
    b.resourceName,
  ].join('\u0000');
}

/** Kafka's ResourcePatternFilter.matches. */
function patternMatches(filter: AclBindingFilter, b: AclBinding): boolean {
  if (filter.resourceType !== ResourceType.ANY && filter.resourceType !== b.resourceType) return false;
  if (
    filter.patternType !== PatternType.ANY &&
    filter.patternType !== PatternType.MATCH &&
    filter.patternType !== b.patternType
  )
    return false;
  const name = filter.resourceName;
  if (name === null) return true;
  if (filter.patternType === PatternType.ANY || filter.patternType === b.patternType)
    return name === b.resourceName;
  // MATCH: the filter names a concrete resource; find every pattern that would apply to it.
  if (b.patternType === PatternType.LITERAL)
    return name === b.resourceName || b.resourceName === WILDCARD_RESOURCE;
  if (b.patternType === PatternType.PREFIXED) return name.startsWith(b.resourceName);
  return false;
}

/** Kafka's AclBindingFilter.matches (pattern filter and entry filter). */
export function filterMatches(filter: AclBindingFilter, b: AclBinding): boolean {
  if (!patternMatches(filter, b)) return false;
  if (filter.principal !== null && filter.principal !== b.principal) return false;
  if (filter.host !== null && filter.host !== b.host) return false;
  if (filter.operation !== AclOperation.ANY && filter.operation !== b.operation) return false;
  return filter.permissionType === AclPermissionType.ANY || filter.permissionType === b.permissionType;
}

/** Kafka's AclBindingFilter.isUnknown: a filter with an UNKNOWN field matches nothing and is refused. */
export function filterIsUnknown(f: AclBindingFilter): boolean {
  return (
    f.resourceType === ResourceType.UNKNOWN ||
    f.patternType === PatternType.UNKNOWN ||
    f.operation === AclOperation.UNKNOWN ||
    f.permissionType === AclPermissionType.UNKNOWN
  );
}

/** `Type:name` with a non-empty type, as SecurityUtils.parseKafkaPrincipal accepts. */
export function isValidPrincipal(principal: string): boolean {
  const colon = principal.indexOf(':');
  return colon > 0;
}

/**
 * Why a new binding may not be stored (AclControlManager.validateNewAcl plus the checks
 * AclApis makes before it), or undefined when it may.
 */
export function invalidNewAcl(b: AclBinding): string | undefined {
  if (b.resourceType === ResourceType.UNKNOWN || b.resourceType === ResourceType.ANY)
    return `Invalid resourceType ${resourceTypeName(b.resourceType)}`;
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED)
    return `Invalid patternType ${patternTypeName(b.patternType)}`;
  if (b.operation === AclOperation.UNKNOWN || b.operation === AclOperation.ANY)
    return `Invalid operation ${operationName(b.operation)}`;
  if (b.permissionType !== AclPermissionType.ALLOW && b.permissionType !== AclPermissionType.DENY)
    return `Invalid permissionType ${permissionTypeName(b.permissionType)}`;
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_NAME)
    return `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`;
  if (b.resourceName === '') return 'Invalid empty resource name';
  if (!isValidPrincipal(b.principal))
    return `Invalid principal ${b.principal}: expected principalType:principalName`;
  if (b.host === '') return 'Invalid empty host';
  return undefined;
}

/** `(pattern=ResourcePattern(...), entry=...)`, the way Kafka prints bindings in logs. */
export function describeAclBinding(b: AclBinding): string {
  return `(pattern=ResourcePattern(resourceType=${resourceTypeName(b.resourceType)}, name=${b.resourceName}, patternType=${patternTypeName(b.patternType)}), entry=(principal=${b.principal}, host=${b.host}, operation=${operationName(b.operation)}, permissionType=${permissionTypeName(b.permissionType)}))`;
}
