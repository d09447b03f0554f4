import { createRequire } from 'node:module';
import { decompressFrameSync, uncompressSync as lz4BlockUncompress } from 'lz4-napi';
import { uncompressSync as snappyUncompress } from 'snappy';

// zstd-napi's native binding: its streaming call lets output stop at a limit (the package's
// `decompress` allocates whatever size a frame header claims).
const zstd = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof import('zstd-napi/binding.js');

/** Decompressed output past the limit, or input that cannot be decompressed. */
export class DecompressionLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecompressionLimitError';
  }
}

const tooLarge = (maxBytes: number) => new DecompressionLimitError(`decompressed size exceeds ${maxBytes}`);

let zstdContext: InstanceType<typeof zstd.DCtx> | undefined;

/**
 * zstd, streamed into bounded pieces: decompression stops as soon as the output passes
 * `maxBytes`, whatever the frame headers claim (a known content size above it is refused at once).
 */
export function decompressZstdBounded(data: Buffer, maxBytes: number): Buffer {
  const declared = zstd.getFrameContentSize(data);
  if (declared !== null && declared > maxBytes) throw tooLarge(maxBytes);
  zstdContext ??= new zstd.DCtx();
  const dctx = zstdContext;
  dctx.reset(zstd.ResetDirective.sessionOnly);
  const parts: Buffer[] = [];
  let total = 0;
  let src = data;
  let ret = 1;
  while (src.length > 0 || ret !== 0) {
    // One byte of room past the limit tells "exactly at the limit" from "beyond it".
    const room = maxBytes - total + 1;
    const chunk = Buffer.allocUnsafe(Math.min(room, Math.max(declared ?? 0, 128 * 1024)));
    const [r, produced, consumed] = dctx.decompressStream(chunk, src);
    ret = r;
    if (produced === 0 && consumed === 0) throw new DecompressionLimitError('truncated zstd data');
    total += produced;
    if (total > maxBytes) throw tooLarge(maxBytes);
    parts.push(chunk.subarray(0, produced));
    src = src.subarray(consumed);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

const LZ4_MAGIC = 0x184d2204;
const LZ4_BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];
/** LZ4 matches reach back at most 64 KiB: the dictionary for a block linked to the previous ones. */
const LZ4_WINDOW = 64 << 10;

interface Lz4Block {
  readonly data: Buffer;
  readonly compressed: boolean;
  readonly maxSize: number;
  readonly independent: boolean;
  /** First block of its frame (no dictionary from earlier output). */
  readonly first: boolean;
}

/** Walks the LZ4 frames (one or more) in `data`: their blocks, without decompressing anything. */
function lz4Blocks(data: Buffer, maxBytes: number): Lz4Block[] {
  const blocks: Lz4Block[] = [];
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > data.length) throw new DecompressionLimitError('truncated lz4 frame');
  };
  while (pos < data.length) {
    need(7);
    if (data.readUInt32LE(pos) !== LZ4_MAGIC) throw new DecompressionLimitError('not an lz4 frame');
    const flg = data[pos + 4]!;
    const bd = data[pos + 5]!;
    const maxSize = LZ4_BLOCK_MAX[(bd >> 4) & 7]!;
    if (flg >> 6 !== 1 || maxSize === 0) throw new DecompressionLimitError('unsupported lz4 frame header');
    const independent = (flg & 0x20) !== 0;
    const blockChecksum = (flg & 0x10) !== 0;
    const hasContentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    pos += 6;
    if (hasContentSize) {
      need(8);
      if (data.readBigUInt64LE(pos) > BigInt(maxBytes)) throw tooLarge(maxBytes);
      pos += 8;
    }
    if (flg & 0x01) pos += 4;
    pos += 1; // header checksum
    let first = true;
    for (;;) {
      need(4);
      const word = data.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      need(size);
      blocks.push({
        data: data.subarray(pos, pos + size),
        compressed: (word & 0x80000000) === 0,
        maxSize,
        independent,
        first,
      });
      first = false;
      pos += size + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) pos += 4;
  }
  return blocks;
}

/**
 * LZ4 frames (Kafka's KafkaLZ4Block format, the standard frame format). When the blocks cannot
 * add up to more than `maxBytes` (compressed blocks counted at their maximum size) the frame is
 * decompressed in one native call, checksums included; otherwise block by block, stopping as
 * soon as the output passes the limit.
 */
export function decompressLz4Bounded(data: Buffer, maxBytes: number): Buffer {
  const blocks = lz4Blocks(data, maxBytes);
  let bound = 0;
  for (const b of blocks) bound += b.compressed ? b.maxSize : b.data.length;
  if (bound <= maxBytes) return decompressFrameSync(data);
  const parts: Buffer[] = [];
  let total = 0;
  let window = Buffer.alloc(0);
  for (const b of blocks) {
    let out: Buffer;
    if (!b.compressed) out = b.data;
    else {
      // lz4-napi's block call takes the output's size bound as a 4-byte little-endian prefix.
      const sized = Buffer.allocUnsafe(4 + b.data.length);
      sized.writeUInt32LE(b.maxSize, 0);
      b.data.copy(sized, 4);
      out =
        b.independent || b.first || window.length === 0
          ? lz4BlockUncompress(sized)
          : lz4BlockUncompress(sized, window);
    }
    total += out.length;
    if (total > maxBytes) throw tooLarge(maxBytes);
    parts.push(out);
    if (!b.independent) {
      const joined = Buffer.concat([window, out]);
      window = joined.subarray(Math.max(0, joined.length - LZ4_WINDOW));
    }
  }
  return Buffer.concat(parts, total);
}

/**
 * One raw snappy block, refused before decompressing when the length it declares (its leading
 * varint, which snappy checks the output against) is above `maxBytes`.
 */
export function uncompressSnappyBounded(block: Buffer, maxBytes: number): Buffer {
  let length = 0;
  for (let i = 0, shift = 0; ; i++, shift += 7) {
    if (i >= block.length || i >= 5) throw new DecompressionLimitError('bad snappy length');
    const byte = block[i]!;
    length += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) break;
  }
  if (length > maxBytes) throw tooLarge(maxBytes);
  const out = snappyUncompress(block);
  return typeof out === 'string' ? Buffer.from(out, 'binary') : out;
}
