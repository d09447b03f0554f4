/**
 * Decompression stops as soon as its output passes the limit, in every codec: zip bombs whose
 * full output would be gigabytes are refused after at most the limit (plus one piece) was produced.
 */
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { compressFrameSync } from 'lz4-napi';
import { describe, expect, it } from 'vitest';
import { CompressionCodec, CompressionError, compress, decompress } from '../../src/compression/codecs.js';

const MiB = 1024 * 1024;
const LIMIT = 4 * MiB;

/** RSS growth (MiB) while `f` runs; what a bomb would cost if decompressed in full is gigabytes. */
function rssGrowthMiB(f: () => void): number {
  const before = process.memoryUsage().rss;
  f();
  return (process.memoryUsage().rss - before) / MiB;
}

function expectRefusedCheaply(codec: number, bomb: Buffer): void {
  const growth = rssGrowthMiB(() =>
    expect(() => decompress(codec, bomb, LIMIT)).toThrow(/exceeds|cannot decompress/),
  );
  expect(growth).toBeLessThan(256);
}

/** An lz4 frame of `blocks` copies of one compressed 4 MiB block of zeros (independent blocks, no content size). */
function lz4Bomb(blocks: number): Buffer {
  const one = compressFrameSync(Buffer.alloc(4 * MiB));
  // Reuse lz4-napi's header (7 bytes: magic, FLG, BD, HC) and its first block.
  const headerEnd = 7;
  const blockLen = one.readUInt32LE(headerEnd) & 0x7fffffff;
  const block = one.subarray(headerEnd, headerEnd + 4 + blockLen);
  const header = Buffer.from(one.subarray(0, headerEnd));
  return Buffer.concat([header, ...Array.from({ length: blocks }, () => block), Buffer.alloc(4)]);
}

describe('bounded decompression', () => {
  it('refuses gzip, snappy, lz4 and zstd bombs of gigabytes while decompressing', () => {
    // gzip: concatenated members, 2 GiB of zeros in all.
    const member = gzipSync(Buffer.alloc(16 * MiB));
    expectRefusedCheaply(CompressionCodec.gzip, Buffer.concat(Array.from({ length: 128 }, () => member)));
    // snappy-java framing: 32 KiB blocks, 64 MiB in all; raw snappy: one block declaring 64 MiB.
    expectRefusedCheaply(CompressionCodec.snappy, compress(CompressionCodec.snappy, Buffer.alloc(64 * MiB)));
    const raw = rawSnappy(64 * MiB);
    expectRefusedCheaply(CompressionCodec.snappy, raw);
    // lz4: 512 blocks of 4 MiB (2 GiB), no content size in the header.
    const lz4 = lz4Bomb(512);
    expect(lz4.length).toBeLessThan(16 * MiB);
    expectRefusedCheaply(CompressionCodec.lz4, lz4);
    // zstd: frames whose headers declare their size, and streamed ones that do not.
    const declared = compress(CompressionCodec.zstd, Buffer.alloc(64 * MiB));
    expectRefusedCheaply(CompressionCodec.zstd, Buffer.concat(Array.from({ length: 32 }, () => declared)));
    const undeclared = execFileSync('zstd', ['-q', '-c', '--no-content-size'], {
      input: Buffer.alloc(64 * MiB),
    });
    expectRefusedCheaply(CompressionCodec.zstd, Buffer.concat(Array.from({ length: 32 }, () => undeclared)));
  });

  it('still decompresses what is within the limit, exactly at it too', () => {
    const data = Buffer.alloc(LIMIT, 7);
    for (const codec of [
      CompressionCodec.gzip,
      CompressionCodec.snappy,
      CompressionCodec.lz4,
      CompressionCodec.zstd,
    ])
      expect(decompress(codec, compress(codec, data), LIMIT).equals(data)).toBe(true);
    const undeclared = execFileSync('zstd', ['-q', '-c', '--no-content-size'], { input: data });
    expect(decompress(CompressionCodec.zstd, undeclared, LIMIT).equals(data)).toBe(true);
    expect(() => decompress(CompressionCodec.zstd, undeclared, LIMIT - 1)).toThrow(CompressionError);
  });

  it('reads lz4 frames block by block near the limit, linked blocks included (the lz4 tool links them)', () => {
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => `record-${i % 977};`).join(''));
    const linked = execFileSync('lz4', ['-q', '-c', '-BD', '-B4', '--no-frame-crc'], { input: data });
    // The blocks could add up to more than the limit (64 KiB each at most), so they go one by one.
    expect(decompress(CompressionCodec.lz4, linked, data.length).equals(data)).toBe(true);
    expect(() => decompress(CompressionCodec.lz4, linked, data.length - 1)).toThrow(/exceeds/);
    const independent = execFileSync('lz4', ['-q', '-c', '-BI', '-B4'], { input: data });
    expect(decompress(CompressionCodec.lz4, independent, data.length).equals(data)).toBe(true);
  });
});

/** A raw snappy block of `size` zeros (its varint header declares `size`). */
function rawSnappy(size: number): Buffer {
  const framed = compress(CompressionCodec.snappy, Buffer.alloc(32 * 1024));
  const block = framed.subarray(20, 20 + framed.readInt32BE(16));
  // Replace the declared length (varint) with `size`: refused before a byte is decompressed.
  let n = 0;
  while ((block[n]! & 0x80) !== 0) n++;
  const varint: number[] = [];
  for (let v = size; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      varint.push(v);
      break;
    }
    varint.push((v & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from(varint), block.subarray(n + 1)]);
}
