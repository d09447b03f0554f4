import { gunzipSync, gzipSync } from 'node:zlib';
import { compressFrameSync } from 'lz4-napi';
import { compressSync as snappyCompress } from 'snappy';
import { compress as zstdCompress } from 'zstd-napi';
import { decompressLz4Bounded, decompressZstdBounded, uncompressSnappyBounded } from './boundedDecompress.js';

/** Compression codec ids, as in record batch and message attributes. */
export const CompressionCodec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionCodec = (typeof CompressionCodec)[keyof typeof CompressionCodec];

export class CompressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompressionError';
  }
}

/** snappy-java's stream header: magic, version 1, compatible version 1. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
/** snappy-java's default block size; Kafka's Java producer frames its output this way. */
const XERIAL_BLOCK = 32 * 1024;

export function compress(codec: number, data: Buffer): Buffer {
  switch (codec) {
    case CompressionCodec.none:
      return data;
    case CompressionCodec.gzip:
      return gzipSync(data);
    case CompressionCodec.snappy: {
      const parts: Buffer[] = [XERIAL_HEADER];
      for (let i = 0; i < data.length || i === 0; i += XERIAL_BLOCK) {
        const block = snappyCompress(data.subarray(i, i + XERIAL_BLOCK));
        const len = Buffer.allocUnsafe(4);
        len.writeInt32BE(block.length);
        parts.push(len, block);
        if (data.length === 0) break;
      }
      return Buffer.concat(parts);
    }
    case CompressionCodec.lz4:
      return compressFrameSync(data);
    case CompressionCodec.zstd:
      return zstdCompress(data);
    default:
      throw new CompressionError(`unknown compression codec ${codec}`);
  }
}

/**
 * Decompresses a batch payload. Output larger than `maxBytes` is refused (decompression
 * bombs) while decompressing, never after: gzip stops inflating at the limit, zstd is streamed
 * into bounded pieces, lz4 goes block by block when its blocks could exceed the limit, and each
 * snappy block's declared length is checked before it is uncompressed.
 */
export function decompress(codec: number, data: Buffer, maxBytes = 256 * 1024 * 1024): Buffer {
  let out: Buffer;
  try {
    switch (codec) {
      case CompressionCodec.none:
        out = data;
        break;
      case CompressionCodec.gzip:
        out = gunzipSync(data, { maxOutputLength: maxBytes });
        break;
      case CompressionCodec.snappy:
        out = decompressSnappy(data, maxBytes);
        break;
      case CompressionCodec.lz4:
        out = decompressLz4Bounded(data, maxBytes);
        break;
      case CompressionCodec.zstd:
        out = decompressZstdBounded(data, maxBytes);
        break;
      default:
        throw new CompressionError(`unknown compression codec ${codec}`);
    }
  } catch (e) {
    if (e instanceof CompressionError) throw e;
    throw new CompressionError(`cannot decompress (codec ${codec}): ${(e as Error).message}`);
  }
  if (out.length > maxBytes)
    throw new CompressionError(`decompressed size ${out.length} exceeds ${maxBytes}`);
  return out;
}

/** Accepts snappy-java's framed stream (Java and librdkafka producers) and raw snappy. */
function decompressSnappy(data: Buffer, maxBytes: number): Buffer {
  if (data.length < 16 || !data.subarray(0, 8).equals(XERIAL_MAGIC))
    return uncompressSnappyBounded(data, maxBytes);
  const parts: Buffer[] = [];
  let total = 0;
  for (let pos = 16; pos < data.length; ) {
    if (pos + 4 > data.length) throw new CompressionError('truncated snappy block length');
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || pos + len > data.length) throw new CompressionError('truncated snappy block');
    const block = uncompressSnappyBounded(data.subarray(pos, pos + len), maxBytes - total);
    total += block.length;
    if (total > maxBytes) throw new CompressionError(`decompressed size exceeds ${maxBytes}`);
    parts.push(block);
    pos += len;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}
