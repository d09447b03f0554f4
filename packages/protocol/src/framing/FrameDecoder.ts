/** Why a stream was refused; the connection should be closed. */
export interface FrameError {
  readonly reason: 'size-out-of-range';
  readonly size: number;
}

/** Where decoded frames go, and who decides whether an announced frame may be read now. */
export interface FrameSink {
  /**
   * A frame of `size` bytes is announced. True: read it now. False: the decoder stops (keeping
   * what it has not read) until `resume()` is called, which means the frame may now be read.
   */
  reserve(size: number): boolean;
  /** A complete frame (size prefix removed) of the announced size. */
  frame(frame: Buffer): void;
}

/** Received pieces of one frame kept as they are; merged when there are this many (tiny reads). */
const MAX_PARTS = 256;
/**
 * A frame is read straight into a buffer of its size once at least this much of it is still to
 * come and an eighth of it has arrived: large frames (produce batches, replica fetch responses)
 * are then never copied, while the memory held stays within 8× the bytes that came.
 */
const DIRECT_READ_MIN_REST = 64 * 1024;
const DIRECT_READ_ARRIVED_SHARE = 8;

/**
 * Splits a TCP byte stream into Kafka's int32-size-prefixed frames. A size above the maximum
 * (or negative) is refused before a byte of its body is buffered; nothing here throws on
 * garbage. Memory follows the bytes that arrived, never the size a client announced: a frame
 * that lies within one chunk is handed out as a view of it; one that spans chunks is kept as the
 * chunks received and copied once, when complete, into a buffer of its size. A sink may hold
 * an announced frame back (the broker's request memory pool has no room); the decoder then
 * reads nothing further until resumed.
 *
 * A socket that lets the reader choose where each read lands (Node's `onread`) asks
 * `nextReadBuffer()` and hands what arrived to `pushRead()`: a large frame is then read by the
 * kernel into its own buffer, and everything else lands in a scratch buffer shared by all
 * connections and is copied out at once.
 */
export class FrameDecoder {
  private readonly header = Buffer.alloc(4);
  private headerFill = 0;
  /** Size of the frame being read (reserved by the sink); -1 between frames. */
  private size = -1;
  private parts: Buffer[] = [];
  private partsBytes = 0;
  /** Set while the sink holds the announced frame back; chunks received meanwhile wait here. */
  private stalled?: { size: number; chunks: Buffer[] };
  private failed?: FrameError;
  /** The frame's own buffer once it is read into directly; `partsBytes` of it are filled. */
  private direct?: Buffer;
  /** The part of `direct` the next read was told to fill. */
  private directTarget?: Buffer;

  /** Settable: a connection lowers it until its client has authenticated. */
  constructor(public maxFrameBytes: number) {}

  /** Bytes held for incomplete frames (received, not yet handed out). */
  get bufferedBytes(): number {
    let stalled = 0;
    for (const c of this.stalled?.chunks ?? []) stalled += c.length;
    return this.headerFill + this.partsBytes + stalled;
  }

  /** The size reserved for the frame being read, if any (the owner releases it on close). */
  get reservedBytes(): number {
    return this.size;
  }

  /** True while the sink holds an announced frame back. */
  get isStalled(): boolean {
    return this.stalled !== undefined;
  }

  /** The size of the frame the sink holds back; -1 when none is. */
  get heldBackSize(): number {
    return this.stalled?.size ?? -1;
  }

  /**
   * Feeds one chunk, giving each complete frame to the sink. Returns the error once the stream
   * is unusable; later pushes return it again and decode nothing.
   */
  push(chunk: Buffer, sink: FrameSink): FrameError | undefined {
    if (this.failed) return this.failed;
    if (this.stalled) {
      this.stalled.chunks.push(chunk);
      return undefined;
    }
    return this.decode(chunk, sink);
  }

  /**
   * Where the socket should put the next bytes it reads: the rest of the frame being read when
   * that goes straight into the frame's buffer, else undefined (read into scratch memory and
   * pass it to `pushRead`).
   */
  nextReadBuffer(): Buffer | undefined {
    this.directTarget = undefined;
    if (this.failed || this.stalled || this.size < 0) return undefined;
    if (!this.direct) {
      if (
        this.size - this.partsBytes < DIRECT_READ_MIN_REST ||
        this.partsBytes * DIRECT_READ_ARRIVED_SHARE < this.size
      )
        return undefined;
      const frame = Buffer.allocUnsafe(this.size);
      let at = 0;
      for (const p of this.parts) at += p.copy(frame, at);
      this.parts = [];
      this.direct = frame;
    }
    this.directTarget = this.direct.subarray(this.partsBytes);
    return this.directTarget;
  }

  /**
   * `n` bytes were read into `buffer`: the one `nextReadBuffer()` returned, or scratch memory the
   * caller reuses (its bytes are copied before this returns).
   */
  pushRead(buffer: Buffer, n: number, sink: FrameSink): FrameError | undefined {
    if (this.failed) return this.failed;
    if (buffer === this.directTarget && this.direct) {
      this.directTarget = undefined;
      this.partsBytes += n;
      if (this.partsBytes === this.size) this.completeDirect(sink);
      return undefined;
    }
    const chunk = Buffer.allocUnsafe(n);
    buffer.copy(chunk, 0, 0, n);
    return this.push(chunk, sink);
  }

  /** The sink now admits the frame it held back: reads it and what arrived after it. */
  resume(sink: FrameSink): FrameError | undefined {
    const stalled = this.stalled;
    if (!stalled) return undefined;
    this.stalled = undefined;
    this.startFrame(stalled.size);
    if (stalled.size === 0) {
      this.size = -1;
      sink.frame(Buffer.alloc(0));
    }
    for (let i = 0; i < stalled.chunks.length; i++) {
      const error = this.decode(stalled.chunks[i]!, sink);
      if (error) return error;
      if (this.stalled) {
        (this.stalled as { chunks: Buffer[] }).chunks.push(...stalled.chunks.slice(i + 1));
        return undefined;
      }
    }
    return undefined;
  }

  private decode(chunk: Buffer, sink: FrameSink): FrameError | undefined {
    let data = chunk;
    while (data.length > 0) {
      if (this.size < 0) {
        const take = Math.min(4 - this.headerFill, data.length);
        data.copy(this.header, this.headerFill, 0, take);
        this.headerFill += take;
        data = data.subarray(take);
        if (this.headerFill < 4) return undefined;
        this.headerFill = 0;
        const size = this.header.readInt32BE(0);
        if (size < 0 || size > this.maxFrameBytes) {
          this.failed = { reason: 'size-out-of-range', size };
          return this.failed;
        }
        if (!sink.reserve(size)) {
          this.stalled = { size, chunks: data.length > 0 ? [data] : [] };
          return undefined;
        }
        this.startFrame(size);
      }
      if (this.direct) {
        // Bytes that did not go straight in (read into scratch before the switch).
        const take = Math.min(this.size - this.partsBytes, data.length);
        data.copy(this.direct, this.partsBytes, 0, take);
        this.partsBytes += take;
        data = data.subarray(take);
        if (this.partsBytes === this.size) this.completeDirect(sink);
        continue;
      }
      if (this.partsBytes === 0 && data.length >= this.size) {
        const frame = data.subarray(0, this.size);
        data = data.subarray(this.size);
        this.size = -1;
        sink.frame(frame);
        continue;
      }
      const take = Math.min(this.size - this.partsBytes, data.length);
      this.parts.push(data.subarray(0, take));
      this.partsBytes += take;
      data = data.subarray(take);
      if (this.partsBytes === this.size) {
        const frame = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
        this.parts = [];
        this.partsBytes = 0;
        this.size = -1;
        sink.frame(frame);
      } else if (this.parts.length >= MAX_PARTS) {
        // A client trickling tiny pieces must not cost a Buffer object per piece. Merging the
        // tail only while it is smaller than the head keeps the copying O(n log n).
        const head = this.parts[0]!;
        const merged =
          head.length > this.partsBytes - head.length
            ? [head, Buffer.concat(this.parts.slice(1), this.partsBytes - head.length)]
            : [Buffer.concat(this.parts, this.partsBytes)];
        this.parts = merged;
      }
    }
    return undefined;
  }

  private completeDirect(sink: FrameSink): void {
    const frame = this.direct!;
    this.direct = undefined;
    this.partsBytes = 0;
    this.size = -1;
    sink.frame(frame);
  }

  private startFrame(size: number): void {
    this.size = size;
    this.parts = [];
    this.partsBytes = 0;
  }
}
