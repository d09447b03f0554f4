import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { API_CODEC_LIST } from '../../src/generated/api.js';
import * as messages from '../../src/generated/messages/index.js';
import { Reader } from '../../src/wire/Reader.js';
import { Writer } from '../../src/wire/Writer.js';
import { MESSAGE_SCHEMAS, messageArb, parseRange } from './schemaArbitraries.js';

type Encode = (w: Writer, m: unknown) => void;
type Decode = (r: Reader) => unknown;

function codecFor(name: string, v: number): { encode: Encode; decode: Decode } {
  const table = messages as unknown as Record<string, Encode | Decode>;
  const encode = table[`encode${name}V${v}`] as Encode | undefined;
  const decode = table[`decode${name}V${v}`] as Decode | undefined;
  if (!encode || !decode) throw new Error(`missing codec for ${name} v${v}`);
  return { encode, decode };
}

describe('every message version round-trips', () => {
  for (const msg of MESSAGE_SCHEMAS) {
    const range = parseRange(msg.validVersions)!;
    it(`${msg.name} v${range.min}-${range.max}`, () => {
      for (let v = range.min; v <= range.max; v++) {
        const { encode, decode } = codecFor(msg.name, v);
        fc.assert(
          fc.property(messageArb(msg, v), ({ input, expected }) => {
            const w = new Writer(16);
            encode(w, input);
            const bytes = w.toBuffer();
            const r = new Reader(bytes);
            expect(decode(r)).toEqual(expected);
            expect(r.pos).toBe(bytes.length);
          }),
          { numRuns: 25 },
        );
      }
    });
  }

  it('the API table points at the same codecs', () => {
    for (const msg of MESSAGE_SCHEMAS) {
      if (msg.apiKey === undefined || (msg.type !== 'request' && msg.type !== 'response')) continue;
      const codec = API_CODEC_LIST[msg.apiKey]!;
      const range = parseRange(msg.validVersions)!;
      for (let v = range.min; v <= range.max; v++) {
        const list = msg.type === 'request' ? codec.decodeRequest : codec.decodeResponse;
        expect(list[v]).toBe(codecFor(msg.name, v).decode);
      }
    }
  });
});
