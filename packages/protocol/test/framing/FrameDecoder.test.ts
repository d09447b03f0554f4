import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, type FrameSink } from '../../src/framing/FrameDecoder.js';

/** A sink that admits every frame. */
const sink = (onFrame: (f: Buffer) => void): FrameSink => ({ reserve: () => true, frame: onFrame });

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
            expect(
              d.push(
                part,
                sink((f) => out.push(Buffer.from(f))),
              ),
            ).toBeUndefined();
          expect(out).toEqual(bodies);
          expect(d.bufferedBytes).toBe(0);
        },
      ),
    );
  });

  it('refuses an oversized or negative size before buffering any of it', () => {
    const d = new FrameDecoder(100);
    const err = d.push(
      Buffer.from([0, 0, 0, 101, 1, 2, 3]),
      sink(() => expect.fail('no frame expected')),
    );
    expect(err).toEqual({ reason: 'size-out-of-range', size: 101 });
    expect(d.bufferedBytes).toBe(0);
    expect(
      d.push(
        Buffer.from([0, 0, 0, 1, 9]),
        sink(() => expect.fail('decoder must stay failed')),
      ),
    ).toEqual(err);
    expect(
      new FrameDecoder(100).push(
        Buffer.from([0xff, 0xff, 0xff, 0xfe]),
        sink(() => {}),
      ),
    ).toEqual({
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
            const err = d.push(
              Buffer.from(c),
              sink((f) => expect(f.length).toBeLessThanOrEqual(max)),
            );
            expect(d.bufferedBytes).toBeLessThanOrEqual(max + 4);
            if (err) break;
          }
        },
      ),
    );
  });

  it('holds only the bytes that arrived, not the size a client announced', () => {
    const d = new FrameDecoder(200 * 1024 * 1024);
    const announced = Buffer.alloc(4);
    announced.writeInt32BE(100 * 1024 * 1024);
    d.push(
      announced,
      sink(() => expect.fail('incomplete')),
    );
    for (let i = 0; i < 1000; i++)
      d.push(
        Buffer.alloc(10, i),
        sink(() => expect.fail('incomplete')),
      );
    expect(d.bufferedBytes).toBe(10_000);
    expect(d.reservedBytes).toBe(100 * 1024 * 1024);
  });

  it('reads nothing of a frame the sink holds back, and everything once resumed', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
          { maxLength: 20 },
        ),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
        (bodies, cuts, admits) => {
          const d = new FrameDecoder(1000);
          const out: Buffer[] = [];
          let n = 0;
          let heldBack = 0;
          const s: FrameSink = {
            // Some announcements are held back: nothing is decoded until resume.
            reserve: () => {
              const ok = admits[n++ % admits.length]!;
              if (!ok) heldBack++;
              return ok;
            },
            frame: (f) => out.push(Buffer.from(f)),
          };
          for (const part of split(framed(bodies), cuts)) {
            expect(d.push(part, s)).toBeUndefined();
            while (d.isStalled) {
              const before = out.length;
              expect(d.resume(s)).toBeUndefined();
              expect(out.length).toBeGreaterThanOrEqual(before);
            }
          }
          expect(out).toEqual(bodies);
          expect(d.bufferedBytes).toBe(0);
          expect(heldBack).toBeLessThanOrEqual(n);
        },
      ),
    );
  });

  it('reads through nextReadBuffer/pushRead recover the frames, with scratch memory reused', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc
            .oneof(fc.nat(300), fc.integer({ min: 60_000, max: 300_000 }))
            .map((n) => Buffer.alloc(n, n & 255)),
          { maxLength: 6 },
        ),
        fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 20 }),
        (bodies, readSizes) => {
          const d = new FrameDecoder(1 << 20);
          const scratch = Buffer.alloc(64 * 1024);
          const stream = framed(bodies);
          const out: Buffer[] = [];
          for (let at = 0, i = 0; at < stream.length; i++) {
            const target = d.nextReadBuffer() ?? scratch;
            const n = Math.min(target.length, stream.length - at, readSizes[i % readSizes.length]!);
            at += stream.copy(target, 0, at, at + n);
            expect(
              d.pushRead(
                target,
                n,
                sink((f) => out.push(f)),
              ),
            ).toBeUndefined();
            // The next read overwrites the scratch: no frame handed out may be a view of it.
            scratch.fill(0xee);
          }
          expect(out.map((f, i) => f.equals(bodies[i]!))).toEqual(bodies.map(() => true));
          expect(d.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads a large frame into its own buffer once an eighth of it has arrived', () => {
    const d = new FrameDecoder(8 << 20);
    const body = Buffer.alloc(1 << 20, 7);
    const stream = framed([body]);
    const scratch = Buffer.alloc(64 * 1024);
    const frames: Buffer[] = [];
    let scratchBytes = 0;
    for (let at = 0; at < stream.length; ) {
      const direct = d.nextReadBuffer();
      const target = direct ?? scratch;
      // Memory follows what arrived: no frame-sized buffer before an eighth of it is here.
      if (direct) expect(d.bufferedBytes * 8).toBeGreaterThanOrEqual(body.length);
      else scratchBytes += Math.min(target.length, stream.length - at);
      const n = Math.min(target.length, stream.length - at);
      at += stream.copy(target, 0, at, at + n);
      d.pushRead(
        target,
        n,
        sink((f) => frames.push(f)),
      );
    }
    expect(frames).toHaveLength(1);
    expect(frames[0]!.equals(body)).toBe(true);
    // The frame is its own buffer (not a view of a larger one) and only its first eighth was copied.
    expect(frames[0]!.buffer.byteLength).toBe(body.length);
    expect(scratchBytes).toBeLessThanOrEqual(body.length / 8 + 64 * 1024 + 4);
  });
});
