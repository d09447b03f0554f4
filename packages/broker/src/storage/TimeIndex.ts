import { IndexFile } from './IndexFile.js';
import { readInt64, writeInt64 } from './Int64.js';

/** `.timeindex`: largest timestamp so far (int64) → relative offset (int32) of the batch holding it. */
export class TimeIndex extends IndexFile {
  static readonly ENTRY_SIZE = 12;

  constructor(path: string, baseOffset: number, maxIndexBytes: number) {
    super(
      path,
      baseOffset,
      Math.max(1, Math.floor(maxIndexBytes / TimeIndex.ENTRY_SIZE)),
      TimeIndex.ENTRY_SIZE,
    );
  }

  protected encodeEntry(buf: Buffer, at: number, key: number, value: number): void {
    writeInt64(buf, at, key);
    buf.writeInt32BE(value, at + 8);
  }

  protected decodeEntry(buf: Buffer, at: number): [number, number] {
    return [readInt64(buf, at), buf.readInt32BE(at + 8)];
  }

  /** Adds (timestamp, offset) when the timestamp is larger than every earlier one. */
  maybeAppend(timestamp: number, offset: number): void {
    if (timestamp < 0) return;
    this.add(timestamp, offset - this.baseOffset);
  }

  get lastEntry(): { timestamp: number; offset: number } | undefined {
    const n = this.entries.size;
    if (n === 0) return undefined;
    return { timestamp: this.entries.keyAt(n - 1), offset: this.baseOffset + this.entries.valueAt(n - 1) };
  }

  /**
   * An offset from which scanning finds the first record with a timestamp ≥ `timestamp`:
   * every record up to the entry's offset has a timestamp ≤ the entry's, so the last entry
   * strictly below `timestamp` lets the scan skip those records.
   */
  startOffsetFor(timestamp: number): number {
    const i = this.entries.lowerIndex(timestamp);
    return i < 0 ? this.baseOffset : this.baseOffset + this.entries.valueAt(i);
  }

  /** Drops entries pointing at offsets ≥ `offset`. */
  truncateToOffset(offset: number): void {
    let n = this.entries.size;
    while (n > 0 && this.baseOffset + this.entries.valueAt(n - 1) >= offset) n--;
    this.truncateToSize(n);
  }

  /** Offsets never decrease and none lies past `lastOffset` of the segment. */
  isConsistent(lastOffset: number): boolean {
    let previous = 0;
    for (let i = 0; i < this.entries.size; i++) {
      const rel = this.entries.valueAt(i);
      if (rel < previous || this.baseOffset + rel > lastOffset) return false;
      previous = rel;
    }
    return true;
  }
}
