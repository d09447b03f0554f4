import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { API_CODEC_LIST } from '../../src/generated/api.js';
import { ProtocolDecodeError } from '../../src/wire/ProtocolDecodeError.js';
import { Reader } from '../../src/wire/Reader.js';
import { Writer } from '../../src/wire/Writer.js';
import { MESSAGE_SCHEMAS, messageArb, parseRange } from './schemaArbitraries.js';

function decodeSafely(decode: (r: Reader) => unknown, bytes: Buffer): void {
  try {
    decode(new Reader(bytes));
  } catch (e) {
    if (!(e instanceof ProtocolDecodeError)) throw e;
  }
}

describe('request decoders under hostile input', () => {
  const requests = MESSAGE_SCHEMAS.filter((m) => m.type === 'request');

  it('random bytes only ever produce a ProtocolDecodeError', () => {
    for (const msg of requests) {
      const codec = API_CODEC_LIST[msg.apiKey!]!;
      const range = parseRange(msg.validVersions)!;
      for (let v = range.min; v <= range.max; v++) {
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 64 }), (a) =>
            decodeSafely(codec.decodeRequest[v]!, Buffer.from(a)),
          ),
          { numRuns: 30 },
        );
      }
    }
  });

  it('every truncation and single-byte corruption of valid requests is handled', () => {
    for (const msg of requests) {
      const codec = API_CODEC_LIST[msg.apiKey!]!;
      const range = parseRange(msg.validVersions)!;
      for (let v = range.min; v <= range.max; v++) {
        fc.assert(
          fc.property(messageArb(msg, v), fc.nat(), fc.nat(255), ({ input }, at, value) => {
            const w = new Writer();
            codec.encodeRequest[v]!(w, input as never);
            const valid = w.toBuffer();
            for (let cut = 0; cut < valid.length; cut++)
              decodeSafely(codec.decodeRequest[v]!, valid.subarray(0, cut));
            if (valid.length > 0) {
              const corrupt = Buffer.from(valid);
              corrupt[at % valid.length] = value;
              decodeSafely(codec.decodeRequest[v]!, corrupt);
            }
          }),
          { numRuns: 8 },
        );
      }
    }
  });

  it('a declared count of two billion in a tiny frame fails without allocating', () => {
    const before = process.memoryUsage().heapUsed;
    // Metadata v1: topics array count = 0x7fffffff.
    const frame = Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 1, 0x61]);
    expect(() => API_CODEC_LIST[3]!.decodeRequest[1]!(new Reader(frame))).toThrow(ProtocolDecodeError);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(16 * 1024 * 1024);
  });
});
