/** The batch fields the filter reads (as @platformatic/kafka decodes a fetched batch). */
export interface FetchedBatch {
  readonly firstOffset: bigint;
  readonly attributes: number;
  readonly producerId: bigint;
}

const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;

/**
 * The batches of a read_committed Fetch answer that carry data a consumer should see, as Kafka's
 * consumer filters them: transaction markers (control batches) are never records, and the batches
 * of the aborted transactions the broker listed are dropped. An aborted transaction starts at its
 * `firstOffset` and ends at its producer's next marker.
 */
export function* committedBatches<B extends FetchedBatch>(
  batches: readonly B[],
  abortedTransactions: readonly { readonly producerId: bigint; readonly firstOffset: bigint }[],
): Generator<B> {
  const pending = [...abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1));
  const aborting = new Set<bigint>();
  let next = 0;
  for (const batch of batches) {
    while (next < pending.length && pending[next]!.firstOffset <= batch.firstOffset)
      aborting.add(pending[next++]!.producerId);
    if (batch.attributes & CONTROL) {
      aborting.delete(batch.producerId);
      continue;
    }
    if (batch.attributes & TRANSACTIONAL && aborting.has(batch.producerId)) continue;
    yield batch;
  }
}
