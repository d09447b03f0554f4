import type { SecurityRecord } from './security/SecurityRecords.js';

/**
 * Cluster metadata records, modelled on KRaft's `__cluster_metadata` records. The log of
 * these records is the source of truth; every broker replays it into a MetadataImage.
 * Values are JSON-safe (no bigint) so the same records go to a local file or PostgreSQL.
 */
export interface BrokerEndpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly securityProtocol: string;
}

export type ConfigResourceType = 'topic' | 'broker';

export type MetadataRecord =
  | {
      readonly type: 'RegisterBroker';
      readonly brokerId: number;
      readonly incarnationId: string;
      readonly brokerEpoch: number;
      readonly endpoints: readonly BrokerEndpoint[];
      readonly rack: string | null;
      readonly fenced: boolean;
      /** Directory ids of the broker's online log dirs (KIP-858); absent in old records. */
      readonly logDirs?: readonly string[];
    }
  | { readonly type: 'UnregisterBroker'; readonly brokerId: number; readonly brokerEpoch: number }
  /** Older spellings of BrokerRegistrationChange; still replayed from existing logs. */
  | { readonly type: 'FenceBroker'; readonly brokerId: number; readonly brokerEpoch: number }
  | { readonly type: 'UnfenceBroker'; readonly brokerId: number; readonly brokerEpoch: number }
  | {
      /** KRaft's BrokerRegistrationChangeRecord: only the fields present change. */
      readonly type: 'BrokerRegistrationChange';
      readonly brokerId: number;
      readonly brokerEpoch: number;
      readonly fenced?: boolean;
      readonly inControlledShutdown?: boolean;
      readonly logDirs?: readonly string[];
    }
  | { readonly type: 'Topic'; readonly name: string; readonly topicId: string }
  | {
      readonly type: 'Partition';
      readonly topicId: string;
      readonly partition: number;
      readonly replicas: readonly number[];
      readonly isr: readonly number[];
      readonly leader: number;
      readonly leaderEpoch: number;
      readonly partitionEpoch: number;
      /** Log dir id of each replica, parallel to `replicas` ('' while unknown; KIP-858). */
      readonly directories?: readonly string[];
      /** A reassignment in progress (as in KRaft's PartitionRecord). */
      readonly addingReplicas?: readonly number[];
      readonly removingReplicas?: readonly number[];
    }
  | {
      readonly type: 'PartitionChange';
      readonly topicId: string;
      readonly partition: number;
      readonly replicas?: readonly number[];
      readonly isr?: readonly number[];
      readonly leader?: number;
      readonly addingReplicas?: readonly number[];
      readonly removingReplicas?: readonly number[];
      readonly directories?: readonly string[];
    }
  | { readonly type: 'RemoveTopic'; readonly topicId: string }
  | {
      readonly type: 'Config';
      readonly resourceType: ConfigResourceType;
      /** Topic name, or broker id as a string ('' for the cluster-wide default). */
      readonly resourceName: string;
      readonly name: string;
      /** null removes the override. */
      readonly value: string | null;
    }
  | {
      readonly type: 'ProducerIds';
      readonly brokerId: number;
      readonly brokerEpoch: number;
      readonly nextProducerId: number;
    }
  /** ACLs, SCRAM credentials and client quotas (security/SecurityRecords.ts). */
  | SecurityRecord;

export type MetadataRecordType = MetadataRecord['type'];
export type PartitionChangeRecord = Extract<MetadataRecord, { type: 'PartitionChange' }>;

/** A record with its position in the metadata log. */
export interface MetadataLogEntry {
  readonly offset: number;
  readonly record: MetadataRecord;
}

/** Leader value meaning "no leader" (Kafka's -1). */
export const NO_LEADER = -1;
