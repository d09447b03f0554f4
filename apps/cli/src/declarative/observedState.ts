import type { AccessRoute, AclBinding, InstanceSpec } from '@fjord/contracts';

/** What the API reports of the resources a plan looks at, with the ETags that guard changes. */
export interface ObservedTopic {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs: Readonly<Record<string, string>>;
}

export interface ObservedUser {
  readonly name: string;
  readonly mechanisms: readonly string[];
  /**
   * Whether the file's password is the user's (the API checks it; it never returns passwords).
   * Undefined when not checked.
   */
  readonly passwordMatches?: boolean;
}

export interface ObservedConnector {
  readonly id: string;
  readonly etag: string;
  readonly name: string;
  readonly type: string;
  readonly tasksMax: number;
  readonly config: Readonly<Record<string, unknown>>;
  readonly secretsSet: readonly string[];
  readonly desiredState: 'RUNNING' | 'PAUSED';
  /** Whether the file's secrets are the connector's (checked by the API); undefined when not checked. */
  readonly secretsMatch?: boolean;
}

export interface ObservedAlarmPolicy {
  readonly id: string;
  readonly etag: string;
  readonly name: string;
  readonly metric: string;
  readonly scope: Readonly<Record<string, unknown>>;
  readonly comparison: string;
  readonly threshold: number;
  readonly durationSeconds: number;
  readonly severity: string;
  readonly channelIds: readonly string[];
  readonly enabled: boolean;
  readonly muted: boolean;
  readonly system: boolean;
}

export interface ObservedInstance {
  readonly id: string;
  readonly etag: string;
  readonly name: string;
  readonly status: string;
  readonly zones: readonly string[];
  readonly brokerCount: number;
  readonly spec: InstanceSpec;
  readonly defaultReplicationFactor: number;
  readonly kafkaVersion: string;
  readonly accessRoutes: readonly AccessRoute[];
  readonly deletionProtection: boolean;
  readonly topics: readonly ObservedTopic[];
  readonly users: readonly ObservedUser[];
  readonly acls: readonly AclBinding[];
  readonly alarmPolicies: readonly ObservedAlarmPolicy[];
  readonly connectors: readonly ObservedConnector[];
}

export interface ObservedPolicy {
  readonly id: string;
  readonly name: string;
  readonly effect: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

export interface ObservedSubAccount {
  readonly id: string;
  readonly name: string;
  readonly policyIds: readonly string[];
}

export interface ObservedState {
  readonly instances: readonly ObservedInstance[];
  readonly policies: readonly ObservedPolicy[];
  readonly subAccounts: readonly ObservedSubAccount[];
}
