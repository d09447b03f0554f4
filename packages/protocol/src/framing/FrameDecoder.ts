/** Why a stream was refused; the connection should be closed. */
export interface FrameError {
  readonly reason: 'size-out-of-range';
  readonly size: number;
}

/**
 * Splits a TCP byte stream into Kafka's int32-size-prefixed frames. A size above the maximum
 * (or negative) is refused before a byte of its body is buffered; nothing here throws on
 * garbage. A frame that lies within one chunk is handed out as a view of it; one that spans
 * chunks is copied once into a buffer of exactly its size, so at most `maxFrameBytes` + 4 bytes
 * are ever held.
 */
export class FrameDecoder {
  private readonly header = Buffer.alloc(4);
  private headerFill = 0;
  private frame?: Buffer;
  private frameFill = 0;
  private failed?: FrameError;

  /** Settable: a connection lowers it until its client has authenticated. */
  constructor(public maxFrameBytes: number) {}

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.headerFill + (this.frame ? this.frameFill : 0);
  }

  /**
   * Feeds one chunk, calling `onFrame` for each complete frame (size prefix removed). Returns
   * the error once the stream is unusable; later pushes return it again and decode nothing.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): FrameError | undefined {
    if (this.failed) return this.failed;
    let data = chunk;
    while (data.length > 0) {
      if (this.frame === undefined) {
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
        if (data.length >= size) {
          onFrame(data.subarray(0, size));
          data = data.subarray(size);
          continue;
        }
        this.frame = Buffer.allocUnsafe(size);
        this.frameFill = 0;
      }
      const take = Math.min(this.frame.length - this.frameFill, data.length);
      data.copy(this.frame, this.frameFill, 0, take);
      this.frameFill += take;
      data = data.subarray(take);
      if (this.frameFill === this.frame.length) {
        const frame = this.frame;
        this.frame = undefined;
        onFrame(frame);
      }
    }
    return undefined;
  }
}
