import type {
  AclOperationCode,
  AclPermissionTypeCode,
  PatternTypeCode,
  ResourceTypeCode,
} from '../acl/AclBinding.js';

export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/** One `entityType → entityName` pair of a quota entity; a null name is the default entity. */
export interface QuotaEntityPart {
  readonly entityType: string;
  readonly entityName: string | null;
}

/**
 * Security and quota records of the metadata log, after KRaft's AccessControlEntryRecord,
 * RemoveAccessControlEntryRecord, UserScramCredentialRecord, RemoveUserScramCredentialRecord and
 * ClientQuotaRecord. ACL fields keep Kafka's wire codes; bytes travel as base64 so records stay
 * JSON-safe for the file and PostgreSQL stores.
 */
export type SecurityRecord =
  | {
      readonly type: 'AccessControlEntry';
      readonly id: string;
      readonly resourceType: ResourceTypeCode;
      readonly resourceName: string;
      readonly patternType: PatternTypeCode;
      readonly principal: string;
      readonly host: string;
      readonly operation: AclOperationCode;
      readonly permissionType: AclPermissionTypeCode;
    }
  | { readonly type: 'RemoveAccessControlEntry'; readonly id: string }
  | {
      readonly type: 'UserScramCredential';
      readonly name: string;
      readonly mechanism: ScramMechanismName;
      /** base64 */
      readonly salt: string;
      /** base64 */
      readonly storedKey: string;
      /** base64 */
      readonly serverKey: string;
      readonly iterations: number;
    }
  | {
      readonly type: 'RemoveUserScramCredential';
      readonly name: string;
      readonly mechanism: ScramMechanismName;
    }
  | {
      readonly type: 'ClientQuota';
      readonly entity: readonly QuotaEntityPart[];
      readonly key: string;
      /** Ignored when `remove` is set. */
      readonly value: number;
      readonly remove: boolean;
    };

export type SecurityRecordType = SecurityRecord['type'];

export const SECURITY_RECORD_TYPES: ReadonlySet<string> = new Set<SecurityRecordType>([
  'AccessControlEntry',
  'RemoveAccessControlEntry',
  'UserScramCredential',
  'RemoveUserScramCredential',
  'ClientQuota',
]);
