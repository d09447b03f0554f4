import { IndexFile } from './IndexFile.js';

/**
 * `.index`: relative offset (int32) → file position (int32) of the batch starting at that
 * offset. Kafka keys entries by a batch's last offset (a legacy of magic 0/1 wrapper
 * messages); keying by the base offset makes a consumer's fetch, which starts where the last
 * batch ended, land on its batch without scanning past the one before.
 */
export class OffsetIndex extends IndexFile {
  static readonly ENTRY_SIZE = 8;

  constructor(path: string, baseOffset: number, maxIndexBytes: number) {
    super(
      path,
      baseOffset,
      Math.max(1, Math.floor(maxIndexBytes / OffsetIndex.ENTRY_SIZE)),
      OffsetIndex.ENTRY_SIZE,
    );
  }

  protected encodeEntry(buf: Buffer, at: number, key: number, value: number): void {
    buf.writeInt32BE(key, at);
    buf.writeInt32BE(value, at + 4);
  }

  protected decodeEntry(buf: Buffer, at: number): [number, number] {
    return [buf.readInt32BE(at), buf.readInt32BE(at + 4)];
  }

  /** Records that the batch at `position` starts at `baseOffset`. */
  append(baseOffset: number, position: number): void {
    this.add(baseOffset - this.baseOffset, position);
  }

  /** Position of the last indexed batch starting at or before `offset` (0 when none): a scan from there finds it. */
  lookup(offset: number): number {
    return this.entries.floor(offset - this.baseOffset, 0);
  }

  get lastEntry(): { offset: number; position: number } | undefined {
    const n = this.entries.size;
    if (n === 0) return undefined;
    return { offset: this.baseOffset + this.entries.keyAt(n - 1), position: this.entries.valueAt(n - 1) };
  }

  /** Drops entries for batches at or after file position `position` (the log was cut there). */
  truncateToPosition(position: number): void {
    let n = this.entries.size;
    while (n > 0 && this.entries.valueAt(n - 1) >= position) n--;
    this.truncateToSize(n);
  }

  /** Offsets and positions strictly increase and stay inside a log of `logSize` bytes. */
  isConsistent(logSize: number): boolean {
    let lastPosition = -1;
    for (let i = 0; i < this.entries.size; i++) {
      const rel = this.entries.keyAt(i);
      const position = this.entries.valueAt(i);
      if (rel < 0 || position <= lastPosition || position >= logSize) return false;
      lastPosition = position;
    }
    return true;
  }
}
