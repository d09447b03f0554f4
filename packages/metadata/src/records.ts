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
    }
  | { readonly type: 'UnregisterBroker'; readonly brokerId: number; readonly brokerEpoch: number }
  | { readonly type: 'FenceBroker'; readonly brokerId: number; readonly brokerEpoch: number }
  | { readonly type: 'UnfenceBroker'; readonly brokerId: number; readonly brokerEpoch: number }
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

/** A record with its position in the metadata log. */
export interface MetadataLogEntry {
  readonly offset: number;
  readonly record: MetadataRecord;
}

/** Leader value meaning "no leader" (Kafka's -1). */
export const NO_LEADER = -1;
