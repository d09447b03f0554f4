import type { PartitionState } from '@fjord/metadata';
import type { ErrorCodeName, ProducerBatchInfo } from '@fjord/protocol';
import type { PartitionLog } from '../storage/PartitionLog.js';
import { ProducerStateManager } from './ProducerStateManager.js';

export type AppendOutcome =
  | {
      readonly ok: true;
      readonly firstOffset: number;
      readonly lastOffset: number;
      readonly logAppendTime: number;
      readonly logStartOffset: number;
    }
  | { readonly ok: false; readonly error: ErrorCodeName; readonly message: string };

/**
 * One partition replica hosted by this broker: its log, idempotent-producer state, its role
 * from the metadata image, and the high watermark that bounds what consumers may read.
 */
export class Partition {
  readonly producers = new ProducerStateManager();
  highWatermark: number;
  state: PartitionState;
  /** Set when the partition's log dir failed: it answers KAFKA_STORAGE_ERROR from then on. */
  offline = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly topic: string,
    readonly topicId: string,
    readonly partition: number,
    readonly log: PartitionLog,
    state: PartitionState,
    private readonly brokerId: number,
  ) {
    this.state = state;
    for (const b of log.batches()) {
      this.producers.update(
        {
          producerId: b.producerId,
          producerEpoch: b.producerEpoch,
          baseSequence: b.baseSequence,
          lastSequence: b.baseSequence < 0 ? -1 : b.baseSequence + b.lastOffset - b.baseOffset,
          isTransactional: b.isTransactional,
          recordCount: b.recordCount,
        },
        b.baseOffset,
        b.lastOffset,
        b.maxTimestamp,
      );
    }
    this.highWatermark = this.isr().length <= 1 ? log.logEndOffset : log.logStartOffset;
  }

  get isLeader(): boolean {
    return this.state.leader === this.brokerId;
  }

  get leaderEpoch(): number {
    return this.state.leaderEpoch;
  }

  isr(): readonly number[] {
    return this.state.isr;
  }

  /**
   * Appends validated batches as the leader. Idempotent batches are checked against the
   * producer's sequence state first: a retry of a batch already in the log is answered with
   * its original offsets and not written again.
   */
  appendAsLeader(
    data: Buffer,
    batches: readonly ProducerBatchInfo[],
    requiredAcks: number,
    minInsyncReplicas: number,
    now: number,
  ): AppendOutcome {
    if (!this.isLeader)
      return {
        ok: false,
        error: 'NOT_LEADER_OR_FOLLOWER',
        message: `broker ${this.brokerId} is not the leader`,
      };
    if (requiredAcks === -1 && this.isr().length < minInsyncReplicas)
      return {
        ok: false,
        error: 'NOT_ENOUGH_REPLICAS',
        message: `ISR ${this.isr().length} is below min.insync.replicas ${minInsyncReplicas}`,
      };
    if (batches.length === 1 && batches[0]!.producerId >= 0n) {
      const check = this.producers.check(batches[0]!);
      if (check.kind === 'error') return { ok: false, error: check.error, message: check.message };
      if (check.kind === 'duplicate')
        return {
          ok: true,
          firstOffset: check.firstOffset,
          lastOffset: check.lastOffset,
          logAppendTime: -1,
          logStartOffset: this.log.logStartOffset,
        };
    }
    let result: ReturnType<PartitionLog['append']>;
    try {
      result = this.log.append(data, this.leaderEpoch, now);
    } catch (e) {
      // The log manager takes the dir offline on I/O errors; this request fails cleanly.
      return { ok: false, error: 'KAFKA_STORAGE_ERROR', message: (e as Error).message };
    }
    if (batches.length === 1) this.producers.update(batches[0]!, result.firstOffset, result.lastOffset, now);
    this.maybeAdvanceHighWatermark();
    return { ok: true, ...result, logStartOffset: this.log.logStartOffset };
  }

  /** With a single in-sync replica (ours), everything appended is committed. */
  maybeAdvanceHighWatermark(): void {
    if (this.isr().length <= 1 && this.log.logEndOffset > this.highWatermark) {
      this.highWatermark = this.log.logEndOffset;
      this.notifyWaiters();
    }
  }

  /** Registers a callback run when the high watermark moves (fetch long-polling). */
  onAdvance(waiter: () => void): () => void {
    this.waiters.add(waiter);
    return () => this.waiters.delete(waiter);
  }

  private notifyWaiters(): void {
    for (const w of [...this.waiters]) w();
  }
}
