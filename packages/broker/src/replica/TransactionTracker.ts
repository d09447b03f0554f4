import type { AbortedTransaction } from '../storage/TransactionIndex.js';

/**
 * Transactions as one partition's log sees them (the part of Kafka's ProducerStateManager and
 * TransactionIndex that read_committed needs): per producer the first offset of its open
 * transaction, which holds the last stable offset back, and the aborted transactions in offset
 * order, which read_committed fetches report so that consumers drop their records. Built from
 * batch headers as they are appended (leader and follower alike) and from the log on load, so
 * every replica holds the same state.
 */
export class TransactionTracker {
  private readonly ongoing = new Map<bigint, number>();
  private aborted: AbortedTransaction[] = [];
  /** The coordinator epoch of each producer's last marker: older coordinators are fenced. */
  private readonly coordinatorEpochs = new Map<bigint, number>();

  /** A transactional data batch starting at `firstOffset` was appended. */
  onData(producerId: bigint, firstOffset: number): void {
    if (!this.ongoing.has(producerId)) this.ongoing.set(producerId, firstOffset);
  }

  /**
   * A COMMIT or ABORT marker of `producerId` was appended at `offset`. Returns the aborted
   * transaction it ended, for the segment's transaction index.
   */
  onMarker(
    producerId: bigint,
    commit: boolean,
    offset: number,
    coordinatorEpoch = -1,
  ): AbortedTransaction | undefined {
    if (coordinatorEpoch > (this.coordinatorEpochs.get(producerId) ?? -1))
      this.coordinatorEpochs.set(producerId, coordinatorEpoch);
    const first = this.ongoing.get(producerId);
    this.ongoing.delete(producerId);
    if (commit || first === undefined) return undefined;
    const aborted = {
      producerId,
      firstOffset: first,
      lastOffset: offset,
      lastStableOffset: this.lastStableOffset(offset + 1),
    };
    this.aborted.push(aborted);
    return aborted;
  }

  /** A producer's transaction state from a snapshot (-1: none). */
  restore(producerId: bigint, coordinatorEpoch: number, openTransactionFirstOffset: number): void {
    if (coordinatorEpoch >= 0) this.coordinatorEpochs.set(producerId, coordinatorEpoch);
    if (openTransactionFirstOffset >= 0) this.ongoing.set(producerId, openTransactionFirstOffset);
  }

  /** Aborted transactions read from the segments' transaction indexes, in log order. */
  restoreAborted(aborted: readonly AbortedTransaction[]): void {
    this.aborted.push(...aborted);
  }

  /** Producers with transaction state here (an open transaction or a marker seen). */
  producerIds(): Iterable<bigint> {
    return new Set([...this.ongoing.keys(), ...this.coordinatorEpochs.keys()]);
  }

  /**
   * The coordinator epoch of the producer's last marker here (-1: none). A marker from a lower
   * epoch comes from a coordinator that has since lost its partition (Kafka's
   * TRANSACTION_COORDINATOR_FENCED).
   */
  coordinatorEpochOf(producerId: bigint): number {
    return this.coordinatorEpochs.get(producerId) ?? -1;
  }

  /** The first offset of the producer's open transaction here, if it has one. */
  firstOffsetOf(producerId: bigint): number | undefined {
    return this.ongoing.get(producerId);
  }

  /** Producers with an open transaction here and its first offset. */
  openTransactions(): ReadonlyMap<bigint, number> {
    return this.ongoing;
  }

  /**
   * Kafka's last stable offset: the first offset of the oldest open transaction, or the high
   * watermark when none is open (or all start above it). Cheap when nothing is open.
   */
  lastStableOffset(highWatermark: number): number {
    let lso = highWatermark;
    if (this.ongoing.size === 0) return lso;
    for (const first of this.ongoing.values()) if (first < lso) lso = first;
    return lso;
  }

  /**
   * Aborted transactions overlapping the fetched range [from, to): those whose marker is at or
   * after `from` and whose first record is before `to` (Kafka's collectAbortedTransactions).
   */
  abortedIn(from: number, to: number): AbortedTransaction[] {
    const list = this.aborted;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.lastOffset < from) lo = mid + 1;
      else hi = mid;
    }
    const out: AbortedTransaction[] = [];
    for (let i = lo; i < list.length; i++) if (list[i]!.firstOffset < to) out.push(list[i]!);
    return out;
  }

  /** Forgets aborted transactions wholly below the log start (their records are gone). */
  dropBefore(logStartOffset: number): void {
    if (this.aborted.length > 0 && this.aborted[0]!.lastOffset < logStartOffset)
      this.aborted = this.aborted.filter((a) => a.lastOffset >= logStartOffset);
  }

  clear(): void {
    this.ongoing.clear();
    this.coordinatorEpochs.clear();
    this.aborted = [];
  }
}
