import type { OnReadOpts, Socket } from 'node:net';

/**
 * Scratch memory for every socket's reads that do not go straight into a frame's buffer. One
 * suffices: Node hands each read to its callback, which copies the bytes out, before the next
 * read of any socket can land.
 */
const SCRATCH = Buffer.allocUnsafe(64 * 1024);

/** Decides where the next read of a socket lands (FrameDecoder.nextReadBuffer). */
export interface ReadPlanner {
  nextReadBuffer(): Buffer | undefined;
}

/** What a socket read: `n` bytes at the start of `buffer` (the planner's buffer, or scratch). */
export type OnRead = (buffer: Buffer, n: number) => void;

/** The `onread` option of `net.connect` for a socket whose reads a planner places. */
export function directReadOptions(planner: ReadPlanner, onRead: OnRead): OnReadOpts {
  return {
    buffer: () => planner.nextReadBuffer() ?? SCRATCH,
    callback: (n, buffer) => {
      onRead(buffer as Buffer, n);
      return true;
    },
  };
}

/**
 * Gives an accepted plain-TCP socket the `onread` mode `net.connect` offers (net.Server has no
 * such option): the kernel reads a large frame straight into its buffer instead of into 64 KiB
 * pieces that are copied together (issue 17: a fifth of a produce's broker CPU was that copy
 * and its garbage). It sets the state the option sets, so it is feature-detected: false, and
 * the socket left emitting 'data', where this Node release lacks that state.
 */
export function readAcceptedDirectly(socket: Socket, planner: ReadPlanner, onRead: OnRead): boolean {
  const symbols = new Map(Object.getOwnPropertySymbols(socket).map((s) => [s.description, s]));
  const kBuffer = symbols.get('kBuffer');
  const kBufferCb = symbols.get('kBufferCb');
  const kBufferGen = symbols.get('kBufferGen');
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: (b: Uint8Array) => void } })._handle;
  if (!kBuffer || !kBufferCb || !kBufferGen || typeof handle?.useUserBuffer !== 'function') return false;
  const { buffer, callback } = directReadOptions(planner, onRead);
  const first = (buffer as () => Uint8Array)();
  const state = socket as unknown as Record<symbol, unknown>;
  state[kBufferGen] = buffer;
  state[kBufferCb] = callback;
  state[kBuffer] = first;
  handle.useUserBuffer(first);
  return true;
}
