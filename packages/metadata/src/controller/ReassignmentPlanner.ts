import type { MetadataImage } from '../image/MetadataImage.js';
import type { MetadataRecord } from '../records.js';
import { buildPartitionChange, completedReassignment } from './PartitionChangeBuilder.js';

export type ReassignmentError =
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'INVALID_REPLICA_ASSIGNMENT'
  | 'NO_REASSIGNMENT_IN_PROGRESS';

export interface ReassignmentItem {
  readonly topic: string;
  readonly partition: number;
  /** Target replicas; null cancels the reassignment in progress. */
  readonly replicas: readonly number[] | null;
}

export type ReassignmentResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: ReassignmentError; readonly message: string };

/**
 * AlterPartitionReassignments (KIP-455) as KRaft plans it: the assignment becomes target ∪
 * current (target first, so the target's first replica is the preferred leader), new replicas
 * are `adding` until they join the ISR, old ones `removing`; the move completes when every
 * adding replica is in the ISR (checked here and on each ISR change). A target equal to the
 * current replicas, or one that only reorders them, applies at once. Cancelling restores the
 * replicas the partition had before.
 */
export function planReassignments(
  image: MetadataImage,
  items: readonly ReassignmentItem[],
  maxReplicationFactor: number,
): { records: MetadataRecord[]; results: ReassignmentResult[] } {
  const records: MetadataRecord[] = [];
  const results = items.map((item): ReassignmentResult => {
    const topic = image.topic(item.topic);
    const state = topic?.partitions[item.partition];
    if (!topic || !state)
      return { ok: false, error: 'UNKNOWN_TOPIC_OR_PARTITION', message: 'The partition does not exist.' };
    const reassigning = state.addingReplicas.length > 0 || state.removingReplicas.length > 0;
    if (item.replicas === null) {
      if (!reassigning)
        return {
          ok: false,
          error: 'NO_REASSIGNMENT_IN_PROGRESS',
          message: `No ongoing reassignment for partition ${item.topic}-${item.partition}.`,
        };
      const adding = new Set(state.addingReplicas);
      const original = state.replicas.filter((r) => !adding.has(r));
      const isr = state.isr.filter((r) => !adding.has(r));
      const change = buildPartitionChange(image, topic.topicId, state, {
        replicas: original,
        isr: isr.length > 0 ? isr : state.isr,
        addingReplicas: [],
        removingReplicas: [],
      });
      if (change) records.push(change);
      return { ok: true };
    }
    const target = item.replicas;
    const problem = invalidTarget(image, target, maxReplicationFactor);
    if (problem) return { ok: false, error: 'INVALID_REPLICA_ASSIGNMENT', message: problem };
    // Re-targeting a move in progress starts from the replicas it began with.
    const adding0 = new Set(state.addingReplicas);
    const current = state.replicas.filter((r) => !adding0.has(r));
    const adding = target.filter((r) => !current.includes(r));
    const removing = current.filter((r) => !target.includes(r));
    const replicas = [...target, ...removing];
    const isr = state.isr.filter((r) => replicas.includes(r));
    const pending = { replicas, addingReplicas: adding, removingReplicas: removing };
    const change = buildPartitionChange(
      image,
      topic.topicId,
      state,
      completedReassignment(pending, isr) ?? { ...pending, isr: isr.length > 0 ? isr : state.isr },
    );
    if (change) records.push(change);
    return { ok: true };
  });
  return { records, results };
}

function invalidTarget(image: MetadataImage, target: readonly number[], max: number): string | undefined {
  if (target.length === 0) return 'The replica assignment is empty.';
  if (new Set(target).size !== target.length) return `Duplicate replicas in the assignment: ${target}.`;
  if (target.length > max) return `Replication factor ${target.length} exceeds the maximum of ${max}.`;
  const unknown = target.find((b) => !image.brokers.has(b));
  if (unknown !== undefined) return `Unknown broker ${unknown} in the assignment.`;
  return undefined;
}

export interface OngoingReassignment {
  readonly topic: string;
  readonly partition: number;
  readonly replicas: readonly number[];
  readonly addingReplicas: readonly number[];
  readonly removingReplicas: readonly number[];
}

/** ListPartitionReassignments: the partitions with a move in progress (optionally only some). */
export function ongoingReassignments(
  image: MetadataImage,
  only?: ReadonlyMap<string, readonly number[]>,
): OngoingReassignment[] {
  const out: OngoingReassignment[] = [];
  for (const topic of image.topicsByName.values()) {
    const wanted = only?.get(topic.name);
    if (only && !wanted) continue;
    for (const p of topic.partitions) {
      if (!p || (p.addingReplicas.length === 0 && p.removingReplicas.length === 0)) continue;
      if (wanted && !wanted.includes(p.partition)) continue;
      out.push({
        topic: topic.name,
        partition: p.partition,
        replicas: p.replicas,
        addingReplicas: p.addingReplicas,
        removingReplicas: p.removingReplicas,
      });
    }
  }
  return out;
}
