/**
 * An in-memory sparse index of (key, value) pairs with increasing keys. Offset indexes map
 * relative offset → file position; time indexes map a timestamp → relative offset. Kafka keeps
 * these in mmapped files; typed arrays rebuilt from the log on open are as fast and cannot
 * disagree with it.
 */
export class SparseIndex {
  private keys: Float64Array;
  private values: Int32Array;
  private count = 0;

  constructor(capacity = 64) {
    this.keys = new Float64Array(capacity);
    this.values = new Int32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  get lastKey(): number {
    return this.count === 0 ? Number.NEGATIVE_INFINITY : this.keys[this.count - 1]!;
  }

  append(key: number, value: number): void {
    if (this.count > 0 && key <= this.keys[this.count - 1]!) return;
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
  }

  /** Value of the last entry whose key is ≤ `key`, or `fallback` when there is none. */
  floor(key: number, fallback: number): number {
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
    return found < 0 ? fallback : this.values[found]!;
  }

  /** Value of the first entry whose key is ≥ `key`, or `fallback`. */
  ceiling(key: number, fallback: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! >= key) {
        found = mid;
        hi = mid - 1;
      } else lo = mid + 1;
    }
    return found < 0 ? fallback : this.values[found]!;
  }

  /** Drops entries whose value is ≥ `value` (after the log was truncated). */
  truncateValuesFrom(value: number): void {
    while (this.count > 0 && this.values[this.count - 1]! >= value) this.count--;
  }

  /** Drops entries whose key is ≥ `key`. */
  truncateKeysFrom(key: number): void {
    while (this.count > 0 && this.keys[this.count - 1]! >= key) this.count--;
  }

  clear(): void {
    this.count = 0;
  }
}
