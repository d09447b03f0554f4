import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../src/framing/FrameDecoder.js';

const framed = (bodies: Buffer[]) =>
  Buffer.concat(
    bodies.flatMap((b) => [
      Buffer.from([b.length >>> 24, (b.length >>> 16) & 255, (b.length >>> 8) & 255, b.length & 255]),
      b,
    ]),
  );

function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    parts.push(buf.subarray(last, p));
    last = p;
  }
  parts.push(buf.subarray(last));
  return parts;
}

describe('FrameDecoder', () => {
  it('recovers exactly the frames sent, however the stream is split', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
          { maxLength: 20 },
        ),
        fc.array(fc.nat(), { maxLength: 30 }),
        (bodies, cuts) => {
          const d = new FrameDecoder(1000);
          const out: Buffer[] = [];
          for (const part of split(framed(bodies), cuts))
            expect(d.push(part, (f) => out.push(Buffer.from(f)))).toBeUndefined();
          expect(out).toEqual(bodies);
          expect(d.bufferedBytes).toBe(0);
        },
      ),
    );
  });

  it('refuses an oversized or negative size before buffering any of it', () => {
    const d = new FrameDecoder(100);
    const err = d.push(Buffer.from([0, 0, 0, 101, 1, 2, 3]), () => expect.fail('no frame expected'));
    expect(err).toEqual({ reason: 'size-out-of-range', size: 101 });
    expect(d.bufferedBytes).toBe(0);
    expect(d.push(Buffer.from([0, 0, 0, 1, 9]), () => expect.fail('decoder must stay failed'))).toEqual(err);
    expect(new FrameDecoder(100).push(Buffer.from([0xff, 0xff, 0xff, 0xfe]), () => {})).toEqual({
      reason: 'size-out-of-range',
      size: -2,
    });
  });

  it('never throws on garbage and never holds more than the maximum', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 5000 }),
        (chunks, max) => {
          const d = new FrameDecoder(max);
          for (const c of chunks) {
            const err = d.push(Buffer.from(c), (f) => expect(f.length).toBeLessThanOrEqual(max));
            expect(d.bufferedBytes).toBeLessThanOrEqual(max + 4);
            if (err) break;
          }
        },
      ),
    );
  });
});
