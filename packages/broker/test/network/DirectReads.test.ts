import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { FrameDecoder } from '@fjord/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { directReadOptions, readAcceptedDirectly } from '../../src/network/DirectReads.js';

const framed = (bodies: readonly Buffer[]): Buffer =>
  Buffer.concat(
    bodies.flatMap((b) => {
      const size = Buffer.alloc(4);
      size.writeInt32BE(b.length);
      return [size, b];
    }),
  );

/** Bodies of assorted sizes, each filled with its own index so a frame read into the wrong place shows. */
const BODIES = [10, 70_000, 3, 1 << 20, 0, 200_000, 5_000, 3 << 20].map((n, i) => Buffer.alloc(n, i + 1));

/** Writes the stream in uneven pieces, with pauses, as a real client's segments arrive. */
async function trickle(socket: Socket, stream: Buffer): Promise<void> {
  const sizes = [1, 3, 50_000, 7, 300_000, 64 * 1024, 2];
  for (let at = 0, i = 0; at < stream.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, stream.length - at);
    if (!socket.write(stream.subarray(at, at + n))) await once(socket, 'drain');
    at += n;
    if (i % 5 === 0) await new Promise((r) => setImmediate(r));
  }
}

let server: Server | undefined;
afterEach(() => server?.close());

describe('DirectReads', () => {
  it('reads every frame intact on an accepted socket, large ones into buffers of their own', async () => {
    const frames: Buffer[] = [];
    let enabled: boolean | undefined;
    const done = new Promise<void>((resolve) => {
      server = createServer((socket) => {
        const decoder = new FrameDecoder(8 << 20);
        const sink = {
          reserve: () => true,
          frame: (f: Buffer) => {
            frames.push(f);
            if (frames.length === BODIES.length) {
              socket.end();
              resolve();
            }
          },
        };
        enabled = readAcceptedDirectly(socket, decoder, (buffer, n) => {
          expect(decoder.pushRead(buffer, n, sink)).toBeUndefined();
        });
      });
    });
    server!.listen(0, '127.0.0.1');
    await once(server!, 'listening');
    const { port } = server!.address() as { port: number };
    const client = connect(port, '127.0.0.1');
    await once(client, 'connect');
    await trickle(client, framed(BODIES));
    await done;
    client.destroy();
    // The Node this runs on has the state the switch sets; if a release drops it, the broker
    // falls back to 'data' events silently, and this says so.
    expect(enabled).toBe(true);
    expect(frames.map((f, i) => f.equals(BODIES[i]!))).toEqual(BODIES.map(() => true));
    // The 1 MiB and 3 MiB frames were read into buffers of exactly their size.
    expect(frames[3]!.buffer.byteLength).toBe(1 << 20);
    expect(frames[7]!.buffer.byteLength).toBe(3 << 20);
  });

  it('gives a connecting socket the same reads through the onread option', async () => {
    const stream = framed(BODIES);
    server = createServer((socket) => void trickle(socket, stream));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const decoder = new FrameDecoder(8 << 20);
    const frames: Buffer[] = [];
    const sink = { reserve: () => true, frame: (f: Buffer) => frames.push(f) };
    const client = connect({
      port,
      host: '127.0.0.1',
      onread: directReadOptions(decoder, (buffer, n) => decoder.pushRead(buffer, n, sink)),
    });
    while (frames.length < BODIES.length) await new Promise((r) => setTimeout(r, 10));
    client.destroy();
    expect(frames.map((f, i) => f.equals(BODIES[i]!))).toEqual(BODIES.map(() => true));
    expect(frames[7]!.buffer.byteLength).toBe(3 << 20);
  });
});
