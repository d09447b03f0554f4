import { CompressionError } from '../compression/codecs.js';
import type { ErrorCodeName } from '../generated/errors.js';
import { ProtocolDecodeError } from '../wire/ProtocolDecodeError.js';
import { messageSetToBatch } from './LegacyMessageSet.js';
import { BATCH_HEADER_SIZE, BATCH_MAGIC, MAGIC_PROBE_SIZE, RecordBatchHeader } from './RecordBatchHeader.js';

export interface ProducerBatchInfo {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly lastSequence: number;
  readonly isTransactional: boolean;
  readonly recordCount: number;
}

export type ValidatedRecords =
  | {
      readonly ok: true;
      /** v2 batches ready to append: the client's own bytes, or the conversion of a legacy set. */
      readonly data: Buffer;
      readonly recordCount: number;
      readonly batches: readonly ProducerBatchInfo[];
      readonly converted: boolean;
    }
  | { readonly ok: false; readonly error: ErrorCodeName; readonly message: string };

export interface ValidationOptions {
  readonly produceVersion: number;
  /** max.message.bytes of the topic: the largest batch accepted. */
  readonly maxBatchBytes: number;
}

/**
 * The produce path's check of a partition's record set, in the spirit of Kafka's
 * LogValidator, without decoding records of v2 batches: sizes, magic, CRC-32C, counts and
 * offset deltas come from batch headers. Legacy (magic 0/1) sets from old clients are
 * converted to one v2 batch.
 */
export function validateProduceRecords(records: Buffer, opts: ValidationOptions): ValidatedRecords {
  if (records.length < MAGIC_PROBE_SIZE)
    return { ok: false, error: 'CORRUPT_MESSAGE', message: 'record set is too short' };
  const magic = records.readInt8(BATCH_MAGIC);
  if (magic < 2) {
    if (opts.produceVersion >= 3)
      return { ok: false, error: 'INVALID_RECORD', message: 'produce v3+ requires record batches (magic 2)' };
    try {
      if (records.length > opts.maxBatchBytes)
        return {
          ok: false,
          error: 'MESSAGE_TOO_LARGE',
          message: `message set of ${records.length} bytes exceeds ${opts.maxBatchBytes}`,
        };
      const data = messageSetToBatch(records, Math.max(opts.maxBatchBytes * 64, 64 * 1024 * 1024));
      const header = new RecordBatchHeader(data);
      return {
        ok: true,
        data,
        recordCount: header.recordCount,
        batches: [info(header)],
        converted: true,
      };
    } catch (e) {
      if (e instanceof ProtocolDecodeError || e instanceof CompressionError)
        return { ok: false, error: 'CORRUPT_MESSAGE', message: e.message };
      throw e;
    }
  }
  if (magic !== 2) return { ok: false, error: 'CORRUPT_MESSAGE', message: `unknown magic ${magic}` };

  const batches: ProducerBatchInfo[] = [];
  let recordCount = 0;
  for (let pos = 0; pos < records.length; ) {
    if (records.length - pos < BATCH_HEADER_SIZE)
      return { ok: false, error: 'CORRUPT_MESSAGE', message: 'truncated record batch' };
    const header = new RecordBatchHeader(records, pos);
    const size = header.sizeInBytes;
    if (size < BATCH_HEADER_SIZE || pos + size > records.length)
      return {
        ok: false,
        error: 'CORRUPT_MESSAGE',
        message: `record batch of ${size} bytes does not fit the request`,
      };
    if (size > opts.maxBatchBytes)
      return {
        ok: false,
        error: 'MESSAGE_TOO_LARGE',
        message: `record batch of ${size} bytes exceeds max.message.bytes ${opts.maxBatchBytes}`,
      };
    if (header.magic !== 2) return { ok: false, error: 'CORRUPT_MESSAGE', message: 'mixed magic values' };
    if (!header.isCrcValid())
      return { ok: false, error: 'CORRUPT_MESSAGE', message: 'record batch CRC-32C mismatch' };
    const count = header.recordCount;
    if (count <= 0 || header.lastOffsetDelta !== count - 1)
      return {
        ok: false,
        error: 'INVALID_RECORD',
        message: `record count ${count} does not match last offset delta ${header.lastOffsetDelta}`,
      };
    if (header.compression > 4)
      return {
        ok: false,
        error: 'UNSUPPORTED_COMPRESSION_TYPE',
        message: `compression codec ${header.compression}`,
      };
    if (header.isControl)
      return { ok: false, error: 'INVALID_RECORD', message: 'clients may not produce control batches' };
    batches.push(info(header));
    recordCount += count;
    pos += size;
  }
  if (opts.produceVersion >= 3 && batches.length !== 1)
    return {
      ok: false,
      error: 'INVALID_RECORD',
      message: 'produce v3+ must carry exactly one record batch per partition',
    };
  return { ok: true, data: records, recordCount, batches, converted: false };
}

function info(h: RecordBatchHeader): ProducerBatchInfo {
  const baseSequence = h.baseSequence;
  return {
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence,
    lastSequence: baseSequence < 0 ? -1 : (baseSequence + h.lastOffsetDelta) % 2_147_483_648,
    isTransactional: h.isTransactional,
    recordCount: h.recordCount,
  };
}
