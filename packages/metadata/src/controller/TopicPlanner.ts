import { randomUUID } from 'node:crypto';
import { ConfigError, parseConfigValue } from '../config/ConfigDef.js';
import { TOPIC_CONFIG_BY_NAME } from '../config/TopicConfigDefs.js';
import type { MetadataImage } from '../image/MetadataImage.js';
import type { MetadataRecord } from '../records.js';
import { type PlacementBroker, PlacementError, placeReplicas } from './ReplicaPlacement.js';

/**
 * Pure planning of topic changes: given the current image and a request, either the records
 * that carry it out or the Kafka error (by name) with a message, exactly as the controller
 * would answer. Nothing here does I/O, so every rule is unit-testable.
 */
export type PlanError =
  | 'INVALID_TOPIC_EXCEPTION'
  | 'TOPIC_ALREADY_EXISTS'
  | 'INVALID_PARTITIONS'
  | 'INVALID_REPLICATION_FACTOR'
  | 'INVALID_REPLICA_ASSIGNMENT'
  | 'INVALID_CONFIG'
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'INVALID_REQUEST'
  | 'TOPIC_DELETION_DISABLED'
  | 'POLICY_VIOLATION';

export type Plan<T = object> =
  | ({ readonly ok: true; readonly records: MetadataRecord[] } & T)
  | { readonly ok: false; readonly error: PlanError; readonly message: string };

export interface TopicDefaults {
  readonly numPartitions: number;
  readonly replicationFactor: number;
  /** Product limit: the most replicas a partition may have. */
  readonly maxReplicationFactor: number;
  /** Product limit: the most partitions the instance's topics may have together (0: none). */
  readonly partitionLimit?: number;
}

/**
 * The instance's partition limit, whoever asks (REST, kafka-topics, any admin client): partitions
 * of internal topics (`__…`) do not count and are never refused.
 */
export function partitionLimitError(
  image: MetadataImage,
  topic: string,
  adding: number,
  limit: number | undefined,
): Extract<Plan, { ok: false }> | undefined {
  if (!limit || topic.startsWith('__')) return undefined;
  let used = 0;
  for (const t of image.topicsByName.values()) if (!t.name.startsWith('__')) used += t.partitions.length;
  if (used + adding <= limit) return undefined;
  return {
    ok: false,
    error: 'POLICY_VIOLATION',
    message: `The instance's partition limit is ${limit}; ${used} partitions are in use and ${adding} more do not fit.`,
  };
}

export interface CreateTopicRequest {
  readonly name: string;
  /** -1: broker default. */
  readonly numPartitions: number;
  /** -1: broker default. */
  readonly replicationFactor: number;
  readonly assignments: readonly { readonly partition: number; readonly brokerIds: readonly number[] }[];
  readonly configs: readonly { readonly name: string; readonly value: string | null }[];
}

export const MAX_TOPIC_NAME_LENGTH = 249;
const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

export function validateTopicName(name: string): string | undefined {
  if (name === '') return "Topic name is illegal, it can't be empty";
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH)
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters`;
  if (!LEGAL_TOPIC_NAME.test(name))
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  return undefined;
}

/** Kafka treats '.' and '_' as colliding in metric names, so such topic names may not coexist. */
function collidingTopic(image: MetadataImage, name: string): string | undefined {
  const unified = name.replace(/\./g, '_');
  for (const existing of image.topicsByName.keys()) {
    if (existing !== name && existing.replace(/\./g, '_') === unified) return existing;
  }
  return undefined;
}

export function validateTopicConfigs(
  configs: readonly { readonly name: string; readonly value: string | null }[],
): { ok: true } | { ok: false; message: string } {
  for (const { name, value } of configs) {
    const def = TOPIC_CONFIG_BY_NAME.get(name);
    if (!def) return { ok: false, message: `Unknown topic config name: ${name}` };
    if (value === null) continue;
    try {
      parseConfigValue(def, value);
    } catch (e) {
      return { ok: false, message: e instanceof ConfigError ? e.message : String(e) };
    }
  }
  return { ok: true };
}

export function planCreateTopic(
  image: MetadataImage,
  req: CreateTopicRequest,
  defaults: TopicDefaults,
  startIndex = Math.floor(Math.random() * 1_000_000),
): Plan<{ topicId: string; numPartitions: number; replicationFactor: number }> {
  const nameProblem = validateTopicName(req.name);
  if (nameProblem) return { ok: false, error: 'INVALID_TOPIC_EXCEPTION', message: nameProblem };
  if (image.topic(req.name))
    return { ok: false, error: 'TOPIC_ALREADY_EXISTS', message: `Topic '${req.name}' already exists.` };
  const collision = collidingTopic(image, req.name);
  if (collision)
    return {
      ok: false,
      error: 'INVALID_TOPIC_EXCEPTION',
      message: `Topic '${req.name}' collides with existing topic: ${collision}`,
    };
  const configCheck = validateTopicConfigs(req.configs);
  if (!configCheck.ok) return { ok: false, error: 'INVALID_CONFIG', message: configCheck.message };

  const brokers = placementBrokers(image);
  let assignment: number[][];
  if (req.assignments.length > 0) {
    if (req.numPartitions !== -1 || req.replicationFactor !== -1)
      return {
        ok: false,
        error: 'INVALID_REQUEST',
        message:
          'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
      };
    const checked = checkManualAssignment(
      req.assignments,
      0,
      new Set(image.brokers.keys()),
      defaults.maxReplicationFactor,
    );
    if (!checked.ok) return checked;
    assignment = checked.assignment;
  } else {
    const numPartitions = req.numPartitions === -1 ? defaults.numPartitions : req.numPartitions;
    const rf = req.replicationFactor === -1 ? defaults.replicationFactor : req.replicationFactor;
    if (numPartitions <= 0)
      return {
        ok: false,
        error: 'INVALID_PARTITIONS',
        message: 'Number of partitions must be larger than 0.',
      };
    if (rf <= 0)
      return {
        ok: false,
        error: 'INVALID_REPLICATION_FACTOR',
        message: 'Replication factor must be larger than 0.',
      };
    if (rf > defaults.maxReplicationFactor)
      return {
        ok: false,
        error: 'INVALID_REPLICATION_FACTOR',
        message: `Replication factor ${rf} exceeds the maximum of ${defaults.maxReplicationFactor}.`,
      };
    try {
      assignment = placeReplicas(brokers, 0, numPartitions, rf, startIndex);
    } catch (e) {
      if (e instanceof PlacementError)
        return {
          ok: false,
          error: 'INVALID_REPLICATION_FACTOR',
          message: `Unable to replicate the partition ${rf} time(s): ${e.message}`,
        };
      throw e;
    }
  }

  const overLimit = partitionLimitError(image, req.name, assignment.length, defaults.partitionLimit);
  if (overLimit) return overLimit;
  const topicId = randomUUID();
  const records: MetadataRecord[] = [{ type: 'Topic', name: req.name, topicId }];
  for (const { name, value } of req.configs) {
    if (value !== null)
      records.push({ type: 'Config', resourceType: 'topic', resourceName: req.name, name, value });
  }
  records.push(...partitionRecords(image, topicId, assignment, 0));
  return {
    ok: true,
    records,
    topicId,
    numPartitions: assignment.length,
    replicationFactor: assignment[0]!.length,
  };
}

/** Brokers new replicas may go to: unfenced and not shutting down. */
function placementBrokers(image: MetadataImage): PlacementBroker[] {
  return image
    .liveBrokers()
    .filter((b) => !b.inControlledShutdown)
    .map((b) => ({ brokerId: b.brokerId, rack: b.rack }));
}

function partitionRecords(
  image: MetadataImage,
  topicId: string,
  assignment: readonly (readonly number[])[],
  firstPartition: number,
): MetadataRecord[] {
  return assignment.map((replicas, i) => {
    const live = replicas.filter((id) => {
      const b = image.brokers.get(id);
      return b !== undefined && !b.fenced && !b.inControlledShutdown;
    });
    return {
      type: 'Partition' as const,
      topicId,
      partition: firstPartition + i,
      replicas: [...replicas],
      isr: live.length > 0 ? live : [...replicas],
      leader: live[0] ?? -1,
      leaderEpoch: 0,
      partitionEpoch: 0,
    };
  });
}

function checkManualAssignment(
  assignments: CreateTopicRequest['assignments'],
  firstPartition: number,
  knownBrokers: ReadonlySet<number>,
  maxReplicationFactor: number,
): { ok: true; assignment: number[][] } | { ok: false; error: PlanError; message: string } {
  const sorted = [...assignments].sort((a, b) => a.partition - b.partition);
  const rf = sorted[0]!.brokerIds.length;
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    if (a.partition !== firstPartition + i)
      return {
        ok: false,
        error: 'INVALID_REPLICA_ASSIGNMENT',
        message: 'Partitions should be a consecutive 0-based integer sequence',
      };
    if (a.brokerIds.length === 0 || a.brokerIds.length !== rf)
      return {
        ok: false,
        error: 'INVALID_REPLICA_ASSIGNMENT',
        message: 'All partitions should have the same number of replicas',
      };
    if (new Set(a.brokerIds).size !== a.brokerIds.length)
      return {
        ok: false,
        error: 'INVALID_REPLICA_ASSIGNMENT',
        message: `Duplicate brokers in assignment of partition ${a.partition}`,
      };
    const unknown = a.brokerIds.find((id) => !knownBrokers.has(id));
    if (unknown !== undefined)
      return {
        ok: false,
        error: 'INVALID_REPLICA_ASSIGNMENT',
        message: `Unknown broker ${unknown} in assignment of partition ${a.partition}`,
      };
  }
  if (rf > maxReplicationFactor)
    return {
      ok: false,
      error: 'INVALID_REPLICATION_FACTOR',
      message: `Replication factor ${rf} exceeds the maximum of ${maxReplicationFactor}.`,
    };
  return { ok: true, assignment: sorted.map((a) => [...a.brokerIds]) };
}

export function planCreatePartitions(
  image: MetadataImage,
  req: {
    readonly name: string;
    readonly count: number;
    readonly assignments: readonly (readonly number[])[] | null;
  },
  maxReplicationFactor: number,
  partitionLimit?: number,
): Plan {
  const topic = image.topic(req.name);
  if (!topic)
    return {
      ok: false,
      error: 'UNKNOWN_TOPIC_OR_PARTITION',
      message: `The topic '${req.name}' does not exist.`,
    };
  const current = topic.partitions.length;
  if (req.count < current)
    return {
      ok: false,
      error: 'INVALID_PARTITIONS',
      message: `Topic currently has ${current} partitions, which is higher than the requested ${req.count}.`,
    };
  if (req.count === current)
    return { ok: false, error: 'INVALID_PARTITIONS', message: `Topic already has ${current} partitions.` };
  const overLimit = partitionLimitError(image, req.name, req.count - current, partitionLimit);
  if (overLimit) return overLimit;
  const rf = topic.partitions[0]!.replicas.length;
  let assignment: number[][];
  if (req.assignments) {
    if (req.assignments.length !== req.count - current)
      return {
        ok: false,
        error: 'INVALID_REPLICA_ASSIGNMENT',
        message: `Increasing the number of partitions by ${req.count - current} but ${req.assignments.length} assignments provided.`,
      };
    const checked = checkManualAssignment(
      req.assignments.map((brokerIds, i) => ({ partition: current + i, brokerIds })),
      current,
      new Set(image.brokers.keys()),
      maxReplicationFactor,
    );
    if (!checked.ok) return checked;
    assignment = checked.assignment;
  } else {
    try {
      const brokers = placementBrokers(image);
      assignment = placeReplicas(
        brokers,
        current,
        req.count - current,
        rf,
        Math.floor(Math.random() * 1_000_000),
      );
    } catch (e) {
      if (e instanceof PlacementError)
        return { ok: false, error: 'INVALID_REPLICATION_FACTOR', message: e.message };
      throw e;
    }
  }
  return { ok: true, records: partitionRecords(image, topic.topicId, assignment, current) };
}

export function planDeleteTopic(image: MetadataImage, name: string): Plan<{ topicId: string }> {
  const topic = image.topic(name);
  if (!topic)
    return {
      ok: false,
      error: 'UNKNOWN_TOPIC_OR_PARTITION',
      message: 'This server does not host this topic-partition.',
    };
  return { ok: true, records: [{ type: 'RemoveTopic', topicId: topic.topicId }], topicId: topic.topicId };
}
