import type { MetadataImage, PartitionState } from '../image/MetadataImage.js';
import { NO_LEADER, type PartitionChangeRecord } from '../records.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * How a leader is chosen when a partition changes (KRaft's PartitionChangeBuilder):
 * - `keep`: the current leader stays while it is eligible and in the ISR; otherwise the first
 *   eligible ISR member in replica order takes over.
 * - `preferred`: the first replica leads when it is eligible and in the ISR.
 * - `unclean`: as `keep`, but when no ISR member is eligible, the first eligible replica leads
 *   and becomes the whole ISR (data it lacks is lost; only when a topic allows it).
 */
export type Election = 'keep' | 'preferred' | 'unclean';

export interface PartitionTarget {
  readonly isr?: readonly number[];
  readonly replicas?: readonly number[];
  readonly addingReplicas?: readonly number[];
  readonly removingReplicas?: readonly number[];
  readonly directories?: readonly string[];
  readonly election?: Election;
}

/**
 * The PartitionChange record that moves `state` to `target` with a leader elected against the
 * image's broker states, or undefined when nothing would change. Leader epochs and partition
 * epochs are bumped by the record's replay (MetadataDelta), not here.
 */
export function buildPartitionChange(
  image: MetadataImage,
  topicId: string,
  state: PartitionState,
  target: PartitionTarget,
): PartitionChangeRecord | undefined {
  const replicas = target.replicas ?? state.replicas;
  let isr = target.isr ?? state.isr;
  const directories =
    target.directories ?? replicas.map((r) => state.directories[state.replicas.indexOf(r)] ?? '');
  const eligibilityState: PartitionState = { ...state, replicas, directories };
  const eligible = (b: number) => image.isReplicaEligible(eligibilityState, b);
  const election = target.election ?? 'keep';

  let leader = NO_LEADER;
  const preferred = replicas[0];
  if (election === 'preferred' && preferred !== undefined && isr.includes(preferred) && eligible(preferred))
    leader = preferred;
  else if (state.leader !== NO_LEADER && isr.includes(state.leader) && eligible(state.leader))
    leader = state.leader;
  else {
    leader = replicas.find((r) => isr.includes(r) && eligible(r)) ?? NO_LEADER;
    if (leader === NO_LEADER && election === 'unclean') {
      leader = replicas.find(eligible) ?? NO_LEADER;
      if (leader !== NO_LEADER) isr = [leader];
    }
  }

  const record: Mutable<PartitionChangeRecord> = {
    type: 'PartitionChange',
    topicId,
    partition: state.partition,
  };
  let changed = false;
  if (!sameMembers(isr, state.isr)) {
    record.isr = [...isr];
    changed = true;
  }
  if (leader !== state.leader) {
    record.leader = leader;
    changed = true;
  }
  if (!sameOrder(replicas, state.replicas)) {
    record.replicas = [...replicas];
    changed = true;
  }
  if (target.addingReplicas && !sameOrder(target.addingReplicas, state.addingReplicas)) {
    record.addingReplicas = [...target.addingReplicas];
    changed = true;
  }
  if (target.removingReplicas && !sameOrder(target.removingReplicas, state.removingReplicas)) {
    record.removingReplicas = [...target.removingReplicas];
    changed = true;
  }
  if (!sameOrder(directories, state.directories)) {
    record.directories = [...directories];
    changed = true;
  }
  return changed ? record : undefined;
}

/**
 * During a reassignment, once every adding replica has joined the ISR the reassignment
 * completes: removing replicas leave the assignment and the ISR, and a leader among them
 * hands over. Returns the target that completes it, or undefined while it must wait.
 */
export function completedReassignment(
  state: Pick<PartitionState, 'replicas' | 'addingReplicas' | 'removingReplicas'>,
  isr: readonly number[],
): PartitionTarget | undefined {
  if (state.addingReplicas.length === 0 && state.removingReplicas.length === 0) return undefined;
  if (!state.addingReplicas.every((r) => isr.includes(r))) return undefined;
  const removing = new Set(state.removingReplicas);
  const newIsr = isr.filter((r) => !removing.has(r));
  if (newIsr.length === 0) return undefined;
  return {
    replicas: state.replicas.filter((r) => !removing.has(r)),
    isr: newIsr,
    addingReplicas: [],
    removingReplicas: [],
  };
}

function sameOrder(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}
