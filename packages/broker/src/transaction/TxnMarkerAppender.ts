import { ErrorCode } from '@fjord/protocol';
import type { TxnMarker } from '../replica/ControlRecords.js';
import { awaitReplication, type ReplicationWait } from '../replica/DelayedProduce.js';
import type { Partition } from '../replica/Partition.js';
import type { TopicPartition } from './TransactionCoordinator.js';

/** What writing markers into this broker's partitions needs. */
export interface MarkerAppendTarget {
  partition(topic: string, partition: number): Partition | undefined;
  /** Whether the topic exists (an unknown partition is UNKNOWN_TOPIC_OR_PARTITION, else NOT_LEADER). */
  knows(topic: string): boolean;
  minInsyncReplicas(topic: string): number;
  /** A marker landed in a `__consumer_offsets` partition: the group coordinator settles its offsets. */
  markerWritten(marker: TxnMarker, tp: TopicPartition): void;
  now(): number;
  readonly timeoutMs: number;
}

/**
 * Writes one transaction's marker into the partitions this broker leads, acks=all (Kafka's
 * WriteTxnMarkers on the partition leader). Answers an error code per partition, in order.
 */
export async function appendTxnMarkers(
  target: MarkerAppendTarget,
  marker: TxnMarker,
  partitions: readonly TopicPartition[],
): Promise<number[]> {
  const codes: number[] = [];
  const waits: ReplicationWait[] = [];
  const waiting: number[] = [];
  const now = target.now();
  for (const tp of partitions) {
    const p = target.partition(tp.topic, tp.partition);
    if (!p) {
      codes.push(
        target.knows(tp.topic) ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
      );
      continue;
    }
    const outcome = p.appendTxnMarker(marker, now);
    if (!outcome.ok) {
      codes.push(ErrorCode[outcome.error]);
      continue;
    }
    target.markerWritten(marker, tp);
    codes.push(ErrorCode.NONE);
    waits.push({
      partition: p,
      requiredOffset: outcome.lastOffset + 1,
      minInsyncReplicas: target.minInsyncReplicas(tp.topic),
    });
    waiting.push(codes.length - 1);
  }
  if (waits.length === 0) return codes;
  const outcomes = await awaitReplication(waits, target.timeoutMs);
  outcomes.forEach((error, i) => {
    if (error !== undefined) codes[waiting[i]!] = ErrorCode[error];
  });
  return codes;
}
