import type { PartitionState } from '@fjord/metadata';
import { type ErrorCodeName, LOG_OVERHEAD, type ProducerBatchInfo, RecordBatchHeader } from '@fjord/protocol';
import type { PartitionLog } from '../storage/PartitionLog.js';
import { encodeProducerSnapshot } from '../storage/ProducerSnapshot.js';
import type { AbortedTransaction } from '../storage/TransactionIndex.js';
import {
  buildMarkerBatch,
  CONTROL_ABORT,
  CONTROL_COMMIT,
  type ControlRecord,
  controlRecordAt,
  type TxnMarker,
} from './ControlRecords.js';
import { ProducerStateManager } from './ProducerStateManager.js';
import { TransactionTracker } from './TransactionTracker.js';

export type AppendOutcome =
  | {
      readonly ok: true;
      readonly firstOffset: number;
      readonly lastOffset: number;
      readonly logAppendTime: number;
      readonly logStartOffset: number;
    }
  | { readonly ok: false; readonly error: ErrorCodeName; readonly message: string };

/** What the leader knows of one follower, from its fetches (Kafka's Replica state). */
interface FollowerState {
  /** The follower's log end offset: the offset it fetched last (-1 until it fetches). */
  logEndOffset: number;
  /** Last time the follower had everything the leader had at its previous fetch. */
  lastCaughtUpMs: number;
  lastFetchMs: number;
  /** The leader's log end offset when the follower fetched last. */
  lastFetchLeaderLogEndOffset: number;
}

/** An ISR the leader asked the controller for and has no answer to yet. */
interface PendingIsr {
  readonly isr: readonly number[];
}

/** What waiting for acks=all found. */
export type ReplicationCheck =
  | { readonly done: false }
  | { readonly done: true; readonly error: ErrorCodeName | undefined };

/**
 * One partition replica hosted by this broker: its log, idempotent-producer state, its role
 * from the metadata image, and — when it leads — the replication state Kafka's Partition keeps:
 * each follower's log end offset and when it was last caught up, the ISR (committed, and any
 * change proposed to the controller), and the high watermark, which advances to the smallest
 * log end offset of the replicas that must have a record before it counts as committed.
 */
export class Partition {
  readonly producers = new ProducerStateManager();
  /** Open and aborted transactions: the last stable offset and read_committed's aborted list. */
  readonly transactions = new TransactionTracker();
  state: PartitionState;
  /** Set when the partition's log dir failed: it answers KAFKA_STORAGE_ERROR from then on. */
  offline = false;
  /** The ISR as last committed (from the image, or a newer AlterPartition answer). */
  private committedIsr: readonly number[];
  private partitionEpoch: number;
  private pendingIsr: PendingIsr | undefined;
  /** After a refused or lost ISR change, no new proposal before this time. */
  private proposeAfterMs = 0;
  private readonly followers = new Map<number, FollowerState>();
  /** The log end offset when this replica became leader: followers must reach it to rejoin. */
  private leaderEpochStartOffset = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly topic: string,
    readonly topicId: string,
    readonly partition: number,
    private log_: PartitionLog,
    state: PartitionState,
    private readonly context: ReplicaContext,
    now: number,
  ) {
    this.state = state;
    this.committedIsr = state.isr;
    this.partitionEpoch = state.partitionEpoch;
    this.rebuildProducerState();
    log_.producerSnapshotSource = () => this.producerSnapshot();
    if (this.isLeader) this.becomeLeader(now);
  }

  get log(): PartitionLog {
    return this.log_;
  }

  /** The log moved to another dir (AlterReplicaLogDirs): same records, new files. */
  replaceLog(log: PartitionLog): void {
    this.log_ = log;
    log.producerSnapshotSource = () => this.producerSnapshot();
  }

  private get brokerId(): number {
    return this.context.brokerId;
  }

  get isLeader(): boolean {
    return this.state.leader === this.brokerId;
  }

  get leaderEpoch(): number {
    return this.state.leaderEpoch;
  }

  get highWatermark(): number {
    return this.log.highWatermark;
  }

  /** What read_committed consumers may read up to: no further than the oldest open transaction. */
  get lastStableOffset(): number {
    return Math.max(this.transactions.lastStableOffset(this.log.highWatermark), this.log.logStartOffset);
  }

  /** The committed ISR. */
  isr(): readonly number[] {
    return this.committedIsr;
  }

  /**
   * The ISR for safety decisions (KIP-497's "maximal ISR"): while a change is pending, the
   * union of the committed and the proposed one, since either may be the one that holds.
   */
  maximalIsr(): readonly number[] {
    const pending = this.pendingIsr?.isr;
    if (!pending) return this.committedIsr;
    return [...new Set([...this.committedIsr, ...pending])];
  }

  /**
   * Takes the partition's new state from the metadata image. Returns what changed for this
   * replica, so the replica manager can start or stop fetching.
   */
  applyState(state: PartitionState, now: number): 'leader' | 'follower' | 'unchanged' {
    const wasLeader = this.isLeader;
    const epochChanged = state.leaderEpoch !== this.state.leaderEpoch || state.leader !== this.state.leader;
    this.state = state;
    if (state.partitionEpoch > this.partitionEpoch) {
      // A newer partition state: our proposal was committed, or overtaken by another change.
      this.commitIsr(state.isr, wasLeader);
      this.partitionEpoch = state.partitionEpoch;
      this.pendingIsr = undefined;
    } else if (state.partitionEpoch === this.partitionEpoch) this.commitIsr(state.isr, wasLeader);
    if (this.isLeader && (!wasLeader || epochChanged)) {
      this.becomeLeader(now);
      return 'leader';
    }
    if (!this.isLeader && (wasLeader || epochChanged)) {
      this.followers.clear();
      this.pendingIsr = undefined;
      this.notifyWaiters();
      return 'follower';
    }
    if (this.isLeader) {
      // New replicas (a reassignment) start unknown; removed ones are forgotten.
      for (const r of state.replicas)
        if (r !== this.brokerId && !this.followers.has(r)) this.followers.set(r, newFollower(false, now));
      for (const r of this.followers.keys()) if (!state.replicas.includes(r)) this.followers.delete(r);
      this.maybeAdvanceHighWatermark(now);
    }
    this.notifyWaiters();
    return 'unchanged';
  }

  private becomeLeader(now: number): void {
    this.leaderEpochStartOffset = this.log.logEndOffset;
    this.log.leaderEpochs.assign(this.leaderEpoch, this.leaderEpochStartOffset);
    this.followers.clear();
    for (const r of this.state.replicas)
      if (r !== this.brokerId) this.followers.set(r, newFollower(this.committedIsr.includes(r), now));
    this.pendingIsr = undefined;
    this.maybeAdvanceHighWatermark(now);
    this.notifyWaiters();
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
    // As Kafka's ReplicaManager: a replica on a failed dir says so, whoever leads now.
    if (this.offline)
      return {
        ok: false,
        error: 'KAFKA_STORAGE_ERROR',
        message: `the log dir of ${this.topic}-${this.partition} is offline`,
      };
    if (!this.isLeader)
      return {
        ok: false,
        error: 'NOT_LEADER_OR_FOLLOWER',
        message: `broker ${this.brokerId} is not the leader`,
      };
    if (requiredAcks === -1 && this.committedIsr.length < minInsyncReplicas)
      return {
        ok: false,
        error: 'NOT_ENOUGH_REPLICAS',
        message: `ISR ${this.committedIsr.length} is below min.insync.replicas ${minInsyncReplicas}`,
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
    if (batches.length === 1) {
      const batch = batches[0]!;
      this.producers.update(batch, result.firstOffset, result.lastOffset, now);
      if (batch.isTransactional && batch.producerId >= 0n)
        this.transactions.onData(batch.producerId, result.firstOffset);
    }
    this.maybeAdvanceHighWatermark(now);
    this.notifyWaiters();
    return { ok: true, ...result, logStartOffset: this.log.logStartOffset };
  }

  /**
   * Writes a transaction marker as the leader (WriteTxnMarkers): a COMMIT or ABORT control batch
   * that closes the producer's open transaction here. A marker of an epoch older than the
   * producer's is a zombie coordinator's and is refused, as Kafka's producer state does.
   */
  appendTxnMarker(marker: TxnMarker, now: number): AppendOutcome {
    if (this.offline)
      return {
        ok: false,
        error: 'KAFKA_STORAGE_ERROR',
        message: `the log dir of ${this.topic}-${this.partition} is offline`,
      };
    if (!this.isLeader)
      return {
        ok: false,
        error: 'NOT_LEADER_OR_FOLLOWER',
        message: `broker ${this.brokerId} is not the leader`,
      };
    const coordinatorEpoch = this.transactions.coordinatorEpochOf(marker.producerId);
    if (marker.coordinatorEpoch < coordinatorEpoch)
      return {
        ok: false,
        error: 'TRANSACTION_COORDINATOR_FENCED',
        message: `coordinator epoch ${marker.coordinatorEpoch} is older than ${coordinatorEpoch}`,
      };
    const current = this.producers.epochOf(marker.producerId);
    if (current !== undefined && marker.producerEpoch < current)
      return {
        ok: false,
        error: 'INVALID_PRODUCER_EPOCH',
        message: `marker epoch ${marker.producerEpoch} is older than the producer's ${current}`,
      };
    let result: ReturnType<PartitionLog['append']>;
    try {
      result = this.log.append(buildMarkerBatch(marker, now), this.leaderEpoch, now);
    } catch (e) {
      return { ok: false, error: 'KAFKA_STORAGE_ERROR', message: (e as Error).message };
    }
    this.recordAbort(
      this.transactions.onMarker(
        marker.producerId,
        marker.commit,
        result.firstOffset,
        marker.coordinatorEpoch,
      ),
    );
    this.producers.fence(marker.producerId, marker.producerEpoch);
    this.maybeAdvanceHighWatermark(now);
    this.notifyWaiters();
    return { ok: true, ...result, logStartOffset: this.log.logStartOffset };
  }

  /**
   * producer.id.expiration.ms: forgets producers idle that long, unless their transaction is
   * still open here. Leader and followers alike, as Kafka's log does. Returns how many.
   */
  expireProducers(now: number, expirationMs: number): number {
    return this.producers.expire(
      now,
      expirationMs,
      (producerId) => this.transactions.firstOffsetOf(producerId) !== undefined,
    );
  }

  /**
   * acks=all: whether every replica that must have `requiredOffset` (exclusive) has it, i.e. the
   * high watermark reached it; then NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below
   * min.insync.replicas meanwhile (the write is in the log, but not as durable as asked).
   */
  checkReplicated(requiredOffset: number, minInsyncReplicas: number): ReplicationCheck {
    if (!this.isLeader) return { done: true, error: 'NOT_LEADER_OR_FOLLOWER' };
    if (this.log.highWatermark < requiredOffset) return { done: false };
    return {
      done: true,
      error: this.maximalIsr().length < minInsyncReplicas ? 'NOT_ENOUGH_REPLICAS_AFTER_APPEND' : undefined,
    };
  }

  /**
   * A follower fetched from `fetchOffset`: everything before it is in its log. Advances the
   * high watermark when this was the slowest replica it waited for.
   */
  recordFollowerFetch(replicaId: number, fetchOffset: number, now: number): void {
    const f = this.followers.get(replicaId);
    if (!f) return;
    const leaderEnd = this.log.logEndOffset;
    if (fetchOffset >= leaderEnd) f.lastCaughtUpMs = Math.max(f.lastCaughtUpMs, now);
    else if (fetchOffset >= f.lastFetchLeaderLogEndOffset)
      f.lastCaughtUpMs = Math.max(f.lastCaughtUpMs, f.lastFetchMs);
    f.logEndOffset = fetchOffset;
    f.lastFetchLeaderLogEndOffset = leaderEnd;
    f.lastFetchMs = now;
    this.maybeAdvanceHighWatermark(now);
  }

  /**
   * The ISR this leader should propose, if it differs from the current one and no proposal is
   * pending: followers that reached the high watermark (and this leader epoch's start) join;
   * ISR members that have not been caught up for replica.lag.time.max.ms leave. Only eligible
   * replicas join (unfenced, not shutting down, log dir online).
   */
  proposeIsr(now: number): readonly number[] | undefined {
    if (!this.isLeader || this.pendingIsr || this.offline || now < this.proposeAfterMs) return undefined;
    const lagMs = this.context.replicaLagTimeMaxMs;
    const hw = this.log.highWatermark;
    const isr = this.committedIsr.filter(
      (r) => r === this.brokerId || now - (this.followers.get(r)?.lastCaughtUpMs ?? 0) <= lagMs,
    );
    for (const [r, f] of this.followers) {
      if (isr.includes(r) || this.committedIsr.includes(r)) continue;
      if (
        f.logEndOffset >= hw &&
        f.logEndOffset >= this.leaderEpochStartOffset &&
        this.context.eligible(this.state, r)
      )
        isr.push(r);
    }
    if (!isr.includes(this.brokerId)) isr.unshift(this.brokerId);
    if (isr.length === this.committedIsr.length && isr.every((r) => this.committedIsr.includes(r)))
      return undefined;
    this.pendingIsr = { isr };
    return isr;
  }

  /** The leader epoch and partition epoch an AlterPartition for this partition must name. */
  get epochs(): { leaderEpoch: number; partitionEpoch: number } {
    return { leaderEpoch: this.state.leaderEpoch, partitionEpoch: this.partitionEpoch };
  }

  /** The controller accepted an ISR change (its answer may arrive before the image does). */
  isrCommitted(isr: readonly number[], partitionEpoch: number, now: number): void {
    if (partitionEpoch >= this.partitionEpoch) {
      this.commitIsr(isr, this.isLeader);
      this.partitionEpoch = partitionEpoch;
    }
    this.pendingIsr = undefined;
    this.maybeAdvanceHighWatermark(now);
    this.notifyWaiters();
  }

  /** Takes a committed ISR; a leader counts shrinks and expands (Kafka's IsrShrinks/IsrExpands). */
  private commitIsr(isr: readonly number[], asLeader: boolean): void {
    const counts = this.context.isrChanges;
    const old = this.committedIsr;
    if (counts && asLeader && old !== isr) {
      if (isr.some((b) => !old.includes(b))) counts.expands++;
      if (old.some((b) => !isr.includes(b))) counts.shrinks++;
    }
    this.committedIsr = isr;
  }

  /** The controller refused the change or could not be reached: propose again a little later. */
  isrFailed(now: number, backoffMs = 200): void {
    this.pendingIsr = undefined;
    this.proposeAfterMs = now + backoffMs;
  }

  /**
   * Kafka's rule: the high watermark rises to the smallest log end offset among the leader,
   * the maximal ISR, and eligible replicas that are caught up (about to join); it never goes
   * back. A member whose position is not known yet (-1) holds it where it is.
   */
  maybeAdvanceHighWatermark(now: number): void {
    if (!this.isLeader) return;
    const leaderEnd = this.log.logEndOffset;
    let hw = leaderEnd;
    const isr = this.maximalIsr();
    for (const [r, f] of this.followers) {
      if (f.logEndOffset >= hw) continue;
      const caughtUp =
        f.logEndOffset === leaderEnd || now - f.lastCaughtUpMs <= this.context.replicaLagTimeMaxMs;
      if (isr.includes(r) || (caughtUp && this.context.eligible(this.state, r))) hw = f.logEndOffset;
    }
    if (hw > this.log.highWatermark) {
      this.log.highWatermark = hw;
      this.notifyWaiters();
    }
  }

  // ---- follower side ---------------------------------------------------------------------

  /**
   * Appends batches fetched from the leader (offsets and epochs as the leader wrote them) and
   * takes the leader's high watermark as far as this log reaches. Batches this log already
   * has are skipped. Producer state follows, so idempotence holds if this replica takes over.
   */
  appendAsFollower(
    data: Buffer,
    leaderHighWatermark: number,
    leaderLogStartOffset: number,
    now: number,
  ): void {
    let start = 0;
    const end = this.log.logEndOffset;
    while (start < data.length) {
      const h = new RecordBatchHeader(data, start);
      if (Number(h.lastOffset) >= end) break;
      start += h.sizeInBytes;
    }
    const fresh = start === 0 ? data : data.subarray(start);
    if (fresh.length > 0) {
      this.log.appendAsFollower(fresh, now);
      for (let pos = 0; pos < fresh.length; ) {
        const h = new RecordBatchHeader(fresh, pos);
        const base = Number(h.baseOffset);
        const last = base + h.lastOffsetDelta;
        this.producers.update(
          {
            producerId: h.producerId,
            producerEpoch: h.producerEpoch,
            baseSequence: h.baseSequence,
            lastSequence: h.baseSequence < 0 ? -1 : h.baseSequence + h.lastOffsetDelta,
            isTransactional: h.isTransactional,
            recordCount: h.recordCount,
          },
          base,
          last,
          Number(h.maxTimestamp),
        );
        if (h.isControl) this.trackMarker(h.producerId, controlRecordAt(fresh, pos), base);
        else if (h.isTransactional && h.producerId >= 0n) this.transactions.onData(h.producerId, base);
        pos += h.batchLength + LOG_OVERHEAD;
      }
    }
    if (leaderLogStartOffset > this.log.logStartOffset && leaderLogStartOffset <= this.log.logEndOffset)
      this.log.deleteRecordsBefore(leaderLogStartOffset);
    const hw = Math.min(leaderHighWatermark, this.log.logEndOffset);
    if (hw > this.log.highWatermark) this.log.highWatermark = hw;
    this.notifyWaiters();
  }

  /** Cuts the log back to `offset` (divergence from the leader) and rebuilds producer state. */
  truncateTo(offset: number): void {
    const cuts = offset < this.log.logEndOffset;
    this.log.truncateTo(offset);
    if (cuts) this.rebuildProducerState();
  }

  /** Drops the whole log and restarts it at `offset` (the leader no longer has what follows ours). */
  truncateFullyAndStartAt(offset: number): void {
    this.log.truncateFullyAndStartAt(offset);
    this.producers.clear();
    this.transactions.clear();
  }

  // ---- waiting ---------------------------------------------------------------------------

  /** Registers a callback run when the log end, high watermark, ISR or role changes. */
  onAdvance(waiter: () => void): () => void {
    this.waiters.add(waiter);
    return () => this.waiters.delete(waiter);
  }

  private notifyWaiters(): void {
    for (const w of [...this.waiters]) w();
  }

  /** A control batch replicated or replayed: COMMIT and ABORT close the producer's transaction. */
  private trackMarker(producerId: bigint, control: ControlRecord | undefined, offset: number): void {
    if (control?.type === CONTROL_COMMIT || control?.type === CONTROL_ABORT)
      this.recordAbort(
        this.transactions.onMarker(
          producerId,
          control.type === CONTROL_COMMIT,
          offset,
          control.coordinatorEpoch,
        ),
      );
  }

  private recordAbort(aborted: AbortedTransaction | undefined): void {
    if (aborted) this.log.recordAbortedTransaction(aborted);
  }

  /** The producer and transaction state as of the log end, as Kafka's snapshot file holds it. */
  private producerSnapshot(): Buffer {
    const ids = new Set([...this.producers.producerIds(), ...this.transactions.producerIds()]);
    return encodeProducerSnapshot(
      [...ids].map((producerId) => ({
        producerId,
        ...this.producers.snapshotOf(producerId),
        coordinatorEpoch: this.transactions.coordinatorEpochOf(producerId),
        currentTxnFirstOffset: this.transactions.firstOffsetOf(producerId) ?? -1,
      })),
    );
  }

  /**
   * Producer and transaction state on load and after truncation: the newest producer snapshot
   * the log holds and the aborted transactions indexed before it, then the batches after it
   * (the whole log when there is no snapshot). The transaction indexes from the snapshot on are
   * rebuilt by that walk, so entries a crash left half-written or a truncation orphaned go.
   */
  private rebuildProducerState(): void {
    this.producers.clear();
    this.transactions.clear();
    const snapshot = this.log.latestProducerSnapshot();
    const from = snapshot?.offset ?? 0;
    for (const e of snapshot?.entries ?? []) {
      this.producers.restore(e);
      this.transactions.restore(e.producerId, e.coordinatorEpoch, e.currentTxnFirstOffset);
    }
    this.transactions.restoreAborted(this.log.abortedTransactionsBefore(from));
    this.log.truncateTransactionIndexesFrom(from);
    for (const b of this.log.batches(from)) {
      if (b.isControl)
        this.trackMarker(b.producerId, controlRecordAt(this.log.readBatchAt(b), 0), b.baseOffset);
      else if (b.isTransactional && b.producerId >= 0n) this.transactions.onData(b.producerId, b.baseOffset);
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
  }
}

function newFollower(inSync: boolean, now: number): FollowerState {
  return {
    logEndOffset: -1,
    lastCaughtUpMs: inSync ? now : 0,
    lastFetchMs: 0,
    lastFetchLeaderLogEndOffset: -1,
  };
}

/** What every partition of a broker shares: who we are, the lag limit, eligibility per the image. */
export interface ReplicaContext {
  readonly brokerId: number;
  /** replica.lag.time.max.ms */
  readonly replicaLagTimeMaxMs: number;
  /** Whether a replica may join the ISR or hold back the high watermark (per the latest image). */
  eligible(state: PartitionState, brokerId: number): boolean;
  /** ISR changes this broker committed as leader, for metrics. */
  readonly isrChanges?: IsrChangeCounts;
}

export interface IsrChangeCounts {
  shrinks: number;
  expands: number;
}
