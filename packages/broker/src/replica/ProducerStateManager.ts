import type { ErrorCodeName, ProducerBatchInfo } from '@fjord/protocol';
import type { ProducerSnapshotEntry } from '../storage/ProducerSnapshot.js';

interface CachedBatch {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
}

interface ProducerEntry {
  epoch: number;
  /** The last few batches, newest last, for duplicate detection (Kafka keeps 5). */
  batches: CachedBatch[];
  lastTimestamp: number;
}

export type SequenceCheck =
  | { readonly kind: 'append' }
  | { readonly kind: 'duplicate'; readonly firstOffset: number; readonly lastOffset: number }
  | { readonly kind: 'error'; readonly error: ErrorCodeName; readonly message: string };

const MAX_CACHED_BATCHES = 5;
const INT32_MAX = 2_147_483_647;

function nextSequence(seq: number): number {
  return seq === INT32_MAX ? 0 : seq + 1;
}

/**
 * Idempotent-producer state of one partition (Kafka's ProducerStateManager): per producer id
 * the epoch and the last batches' sequence ranges, so retries are answered with the offsets
 * they got the first time and gaps are refused with OUT_OF_ORDER_SEQUENCE_NUMBER.
 */
export class ProducerStateManager {
  private readonly producers = new Map<bigint, ProducerEntry>();

  check(batch: ProducerBatchInfo): SequenceCheck {
    if (batch.producerId < 0n) return { kind: 'append' };
    const entry = this.producers.get(batch.producerId);
    if (!entry) {
      if (batch.baseSequence === 0 || batch.baseSequence < 0) return { kind: 'append' };
      return {
        kind: 'error',
        error: 'UNKNOWN_PRODUCER_ID',
        message: `no state for producer ${batch.producerId}, first sequence ${batch.baseSequence}`,
      };
    }
    if (batch.producerEpoch < entry.epoch)
      return {
        kind: 'error',
        error: 'INVALID_PRODUCER_EPOCH',
        message: `epoch ${batch.producerEpoch} is older than the current ${entry.epoch}`,
      };
    if (batch.producerEpoch > entry.epoch) {
      if (batch.baseSequence === 0) return { kind: 'append' };
      return {
        kind: 'error',
        error: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
        message: `new epoch ${batch.producerEpoch} must start at sequence 0, got ${batch.baseSequence}`,
      };
    }
    const dup = entry.batches.find(
      (b) => b.firstSeq === batch.baseSequence && b.lastSeq === batch.lastSequence,
    );
    if (dup) return { kind: 'duplicate', firstOffset: dup.firstOffset, lastOffset: dup.lastOffset };
    const last = entry.batches[entry.batches.length - 1];
    if (last && batch.baseSequence !== nextSequence(last.lastSeq))
      return {
        kind: 'error',
        error: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
        message: `expected sequence ${nextSequence(last.lastSeq)}, got ${batch.baseSequence}`,
      };
    return { kind: 'append' };
  }

  /** Records an appended batch (also used when rebuilding state from the log). */
  update(batch: ProducerBatchInfo, firstOffset: number, lastOffset: number, timestamp: number): void {
    if (batch.producerId < 0n || batch.baseSequence < 0) return;
    let entry = this.producers.get(batch.producerId);
    if (!entry || batch.producerEpoch > entry.epoch) {
      entry = { epoch: batch.producerEpoch, batches: [], lastTimestamp: timestamp };
      this.producers.set(batch.producerId, entry);
    }
    entry.batches.push({
      firstSeq: batch.baseSequence,
      lastSeq: batch.lastSequence,
      firstOffset,
      lastOffset,
    });
    if (entry.batches.length > MAX_CACHED_BATCHES) entry.batches.shift();
    entry.lastTimestamp = timestamp;
  }

  /** Every producer with state here (DescribeProducers): epoch, last sequence and when it last wrote. */
  *entries(): Generator<{ producerId: bigint; epoch: number; lastSequence: number; lastTimestamp: number }> {
    for (const [producerId, e] of this.producers)
      yield {
        producerId,
        epoch: e.epoch,
        lastSequence: e.batches[e.batches.length - 1]?.lastSeq ?? -1,
        lastTimestamp: e.lastTimestamp,
      };
  }

  /** Producers with state here. */
  producerIds(): Iterable<bigint> {
    return this.producers.keys();
  }

  /** A producer's part of a snapshot entry: its epoch and last batch (Kafka's snapshots keep one). */
  snapshotOf(
    producerId: bigint,
  ): Pick<ProducerSnapshotEntry, 'epoch' | 'lastSequence' | 'lastOffset' | 'offsetDelta' | 'timestamp'> {
    const e = this.producers.get(producerId);
    const last = e?.batches[e.batches.length - 1];
    return {
      epoch: e?.epoch ?? -1,
      lastSequence: last?.lastSeq ?? -1,
      lastOffset: last?.lastOffset ?? -1,
      offsetDelta: last ? last.lastOffset - last.firstOffset : 0,
      timestamp: e?.lastTimestamp ?? -1,
    };
  }

  /** A producer as a snapshot recorded it (entries with only transaction state carry epoch -1). */
  restore(entry: ProducerSnapshotEntry): void {
    if (entry.epoch < 0) return;
    this.producers.set(entry.producerId, {
      epoch: entry.epoch,
      batches:
        entry.lastSequence < 0
          ? []
          : [
              {
                firstSeq: entry.lastSequence - entry.offsetDelta,
                lastSeq: entry.lastSequence,
                firstOffset: entry.lastOffset - entry.offsetDelta,
                lastOffset: entry.lastOffset,
              },
            ],
      lastTimestamp: entry.timestamp,
    });
  }

  /** The epoch last seen of a producer, if any. */
  epochOf(producerId: bigint): number | undefined {
    return this.producers.get(producerId)?.epoch;
  }

  /** A producer re-initialised (InitProducerId with a bumped epoch). */
  fence(producerId: bigint, epoch: number): void {
    const entry = this.producers.get(producerId);
    if (entry && epoch > entry.epoch)
      this.producers.set(producerId, { epoch, batches: [], lastTimestamp: entry.lastTimestamp });
  }

  /**
   * Forgets producers that last wrote `expirationMs` (producer.id.expiration.ms) or more ago,
   * except those with a transaction still open here (Kafka's removeExpiredProducers): their
   * state is what the transaction's marker and the last stable offset need. Returns how many.
   */
  expire(now: number, expirationMs: number, inTransaction: (producerId: bigint) => boolean): number {
    let removed = 0;
    for (const [id, e] of this.producers)
      if (now - e.lastTimestamp >= expirationMs && !inTransaction(id)) {
        this.producers.delete(id);
        removed++;
      }
    return removed;
  }

  clear(): void {
    this.producers.clear();
  }
}
