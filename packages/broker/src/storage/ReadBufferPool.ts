/**
 * Buffers that fetches read segment bytes into, lent out and given back once the response that
 * holds them has been written to the socket. A large buffer allocated per read costs more than
 * the read itself: the allocator maps fresh pages and the kernel faults each one in (measured in
 * test/bench/RESULTS.md, "Fetch path": a 10 MiB read into a new buffer ran at ~550 MB/s, into a
 * reused one at 8–20 GB/s). Buffers come in power-of-two sizes; idle ones are kept up to
 * `maxIdleBytes`, so the pool holds at most that much memory beyond what is lent out. A buffer
 * never given back (a connection that closed before its response went out) is simply collected.
 */
export class ReadBufferPool {
  /** Idle buffers by size class (log2 of their size). */
  private readonly idle = new Map<number, Buffer[]>();
  /** Buffers lent out, by their memory: only these are taken back, each once. */
  private readonly lent = new WeakSet<ArrayBufferLike>();
  private idleBytes_ = 0;

  constructor(
    /** Idle buffers kept beyond this are left to the garbage collector. */
    readonly maxIdleBytes = 64 * 1024 * 1024,
    /** Reads smaller than this are cheap to allocate and not pooled. */
    readonly minPooledBytes = 64 * 1024,
    /** Reads larger than this get a buffer of their own (a rare, oversized first batch). */
    readonly maxPooledBytes = 16 * 1024 * 1024,
  ) {}

  /** A buffer of at least `size` bytes (its contents are whatever it held before). */
  take(size: number): Buffer {
    if (size < this.minPooledBytes || size > this.maxPooledBytes) return Buffer.allocUnsafeSlow(size);
    const cls = Math.ceil(Math.log2(size));
    let buf = this.idle.get(cls)?.pop();
    if (buf) this.idleBytes_ -= buf.length;
    else buf = Buffer.allocUnsafeSlow(2 ** cls);
    this.lent.add(buf.buffer);
    return buf;
  }

  /** Gives back the buffer `view` was taken from (a view of it is enough); others are ignored. */
  give(view: Buffer): void {
    const memory = view.buffer;
    if (!this.lent.has(memory)) return;
    this.lent.delete(memory);
    const size = memory.byteLength;
    if (this.idleBytes_ + size > this.maxIdleBytes) return;
    const cls = Math.log2(size);
    let free = this.idle.get(cls);
    if (!free) {
      free = [];
      this.idle.set(cls, free);
    }
    free.push(Buffer.from(memory, 0, size));
    this.idleBytes_ += size;
  }

  /** Bytes held by idle buffers. */
  get idleBytes(): number {
    return this.idleBytes_;
  }
}
