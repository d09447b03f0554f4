import type { MetadataImage } from '../image/MetadataImage.js';
import type { MetadataRecord } from '../records.js';
import { buildPartitionChange } from './PartitionChangeBuilder.js';

export interface DirectoryAssignment {
  readonly topicId: string;
  readonly partition: number;
  /** The log dir (directory id) now holding the broker's replica. */
  readonly directory: string;
}

export type DirectoryAssignmentError =
  | 'UNKNOWN_TOPIC_ID'
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'NOT_LEADER_OR_FOLLOWER';

/**
 * AssignReplicasToDirs (KIP-858): a broker says which of its log dirs holds each of its replicas,
 * so when a dir fails the controller knows which replicas went with it. A replica the broker
 * does not host per the image is refused (NOT_LEADER_OR_FOLLOWER).
 */
export function planAssignReplicasToDirs(
  image: MetadataImage,
  brokerId: number,
  assignments: readonly DirectoryAssignment[],
): { records: MetadataRecord[]; results: (DirectoryAssignmentError | undefined)[] } {
  const records: MetadataRecord[] = [];
  const results = assignments.map((a): DirectoryAssignmentError | undefined => {
    const topic = image.topicsById.get(a.topicId);
    if (!topic) return 'UNKNOWN_TOPIC_ID';
    const state = topic.partitions[a.partition];
    if (!state) return 'UNKNOWN_TOPIC_OR_PARTITION';
    const index = state.replicas.indexOf(brokerId);
    if (index < 0) return 'NOT_LEADER_OR_FOLLOWER';
    if (state.directories[index] === a.directory) return undefined;
    const directories = state.replicas.map((_, i) =>
      i === index ? a.directory : (state.directories[i] ?? ''),
    );
    const change = buildPartitionChange(image, a.topicId, state, { directories });
    if (change) records.push(change);
    return undefined;
  });
  return { records, results };
}
