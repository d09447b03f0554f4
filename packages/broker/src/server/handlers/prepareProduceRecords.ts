import {
  type ErrorCodeName,
  keylessRecordIndexes,
  type ProducerBatchInfo,
  recompressBatches,
  validateProduceRecords,
} from '@fjord/protocol';

/** What a partition's records need before they can be appended, from the topic's configs. */
export interface PrepareOptions {
  readonly produceVersion: number;
  /** max.message.bytes of the topic. */
  readonly maxBatchBytes: number;
  /** cleanup.policy includes compact: records without a key are refused. */
  readonly compacted: boolean;
  /** The codec of the topic's compression.type; undefined for "producer" (kept as sent). */
  readonly targetCodec: number | undefined;
}

export type PreparedRecords =
  | {
      readonly kind: 'ok';
      /** v2 batches ready to append. */
      readonly data: Buffer;
      readonly recordCount: number;
      readonly batches: readonly ProducerBatchInfo[];
    }
  | { readonly kind: 'error'; readonly error: ErrorCodeName; readonly message: string }
  /** A compacted topic's keyless records: their positions in the record set. */
  | { readonly kind: 'keyless'; readonly keyless: readonly number[] };

/**
 * The produce path's pure work on one partition's records: validation from batch headers
 * (CRC-32C, sizes, counts), the compacted topic's key check, recompression to the topic's codec.
 * No broker state, so a shard thread runs it as well as the event loop (docs/adr/0023).
 */
export function prepareProduceRecords(records: Buffer, opts: PrepareOptions): PreparedRecords {
  const validated = validateProduceRecords(records, {
    produceVersion: opts.produceVersion,
    maxBatchBytes: opts.maxBatchBytes,
  });
  if (!validated.ok) return { kind: 'error', error: validated.error, message: validated.message };
  let data = validated.data;
  // Decoded records are bounded by what the topic accepts per batch, with room for compression.
  const maxDecompressed = opts.maxBatchBytes * 64;
  if (opts.compacted) {
    let keyless: number[];
    try {
      keyless = keylessRecordIndexes(data, maxDecompressed);
    } catch (e) {
      return { kind: 'error', error: 'CORRUPT_MESSAGE', message: (e as Error).message };
    }
    if (keyless.length > 0) return { kind: 'keyless', keyless };
  }
  if (opts.targetCodec !== undefined) {
    try {
      data = recompressBatches(data, opts.targetCodec, maxDecompressed);
    } catch (e) {
      return { kind: 'error', error: 'CORRUPT_MESSAGE', message: (e as Error).message };
    }
  }
  return { kind: 'ok', data, recordCount: validated.recordCount, batches: validated.batches };
}
