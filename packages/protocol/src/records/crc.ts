import { crc32, crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC-32C (Castagnoli), used by record batches (magic 2). Native SIMD implementation. */
export function crc32c(data: Uint8Array, initial = 0): number {
  return nativeCrc32c(data, initial) >>> 0;
}

/** CRC-32 (IEEE), used by legacy messages (magic 0 and 1). */
export function crc32Ieee(data: Uint8Array, initial = 0): number {
  return crc32(data, initial) >>> 0;
}
