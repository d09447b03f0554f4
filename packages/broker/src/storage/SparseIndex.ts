/**
 * In-memory sorted (key, value) pairs with strictly increasing keys, searched by binary search.
 * The offset index maps relative offset → file position; the time index maps timestamp →
 * relative offset. Typed arrays: no per-entry objects, cheap to grow and to write out.
 */
export class SparseIndex {
  private keys: Float64Array;
  private values: Int32Array;
  private count = 0;

  constructor(capacity = 64) {
    this.keys = new Float64Array(Math.max(1, capacity));
    this.values = new Int32Array(Math.max(1, capacity));
  }

  get size(): number {
    return this.count;
  }

  keyAt(i: number): number {
    return this.keys[i]!;
  }

  valueAt(i: number): number {
    return this.values[i]!;
  }

  get lastKey(): number {
    return this.count === 0 ? Number.NEGATIVE_INFINITY : this.keys[this.count - 1]!;
  }

  /** Appends unless `key` does not exceed the last key (returns whether it was added). */
  append(key: number, value: number): boolean {
    if (this.count > 0 && key <= this.keys[this.count - 1]!) return false;
    if (this.count === this.keys.length) {
      const keys = new Float64Array(this.keys.length * 2);
      keys.set(this.keys);
      this.keys = keys;
      const values = new Int32Array(this.values.length * 2);
      values.set(this.values);
      this.values = values;
    }
    this.keys[this.count] = key;
    this.values[this.count] = value;
    this.count++;
    return true;
  }

  /** Index of the last entry whose key is ≤ `key`, or -1. */
  floorIndex(key: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! <= key) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Index of the last entry whose key is < `key`, or -1. */
  lowerIndex(key: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! < key) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Value of the last entry whose key is ≤ `key`, or `fallback`. */
  floor(key: number, fallback: number): number {
    const i = this.floorIndex(key);
    return i < 0 ? fallback : this.values[i]!;
  }

  /** Keeps only the first `n` entries. */
  truncateToSize(n: number): void {
    this.count = Math.max(0, Math.min(this.count, n));
  }

  clear(): void {
    this.count = 0;
  }
}
