import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readInt64, writeInt64 } from '../../src/storage/Int64.js';

describe('int64 as numbers', () => {
  it('writes and reads what BigInt would, for every safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        const ours = Buffer.alloc(8);
        writeInt64(ours, 0, n);
        const reference = Buffer.alloc(8);
        reference.writeBigInt64BE(BigInt(n));
        expect(ours.equals(reference)).toBe(true);
        expect(readInt64(reference, 0)).toBe(n);
      }),
    );
    const minusOne = Buffer.alloc(8, 0xff);
    expect(readInt64(minusOne, 0)).toBe(-1);
  });
});
