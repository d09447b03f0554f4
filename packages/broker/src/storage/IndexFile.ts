import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { writeFullySync } from './FileIO.js';
import { TMP_SUFFIX } from './LogFileNames.js';
import { SparseIndex } from './SparseIndex.js';

/**
 * A sparse index kept in memory and written out as fixed-size big-endian entries (Kafka's
 * `.index` / `.timeindex` formats). Kafka mmaps these files; we keep typed arrays and write the
 * file when the segment rolls or closes. After a crash the segments that were not flushed are
 * re-indexed from the log anyway, so the file only has to be right for flushed segments.
 */
export abstract class IndexFile {
  protected readonly entries = new SparseIndex();
  private dirty = false;
  /** The file on disk matches memory and was fsynced. */
  private synced = false;

  constructor(
    public path: string,
    readonly baseOffset: number,
    readonly maxEntries: number,
    private readonly entrySize: number,
  ) {}

  get entryCount(): number {
    return this.entries.size;
  }

  /** A full index forces a roll (segment.index.bytes). */
  get isFull(): boolean {
    return this.entries.size >= this.maxEntries;
  }

  protected abstract encodeEntry(buf: Buffer, at: number, key: number, value: number): void;
  protected abstract decodeEntry(buf: Buffer, at: number): [key: number, value: number];

  protected add(key: number, value: number): boolean {
    const added = this.entries.append(key, value);
    if (added) this.dirty = true;
    return added;
  }

  protected truncateToSize(n: number): void {
    if (n >= this.entries.size) return;
    this.entries.truncateToSize(n);
    this.dirty = true;
  }

  clear(): void {
    if (this.entries.size > 0) this.dirty = true;
    this.entries.clear();
  }

  /**
   * Reads the file into memory. Returns false when it is missing or malformed (odd length,
   * keys not increasing); the caller then rebuilds the index from the log.
   */
  load(): boolean {
    this.entries.clear();
    this.dirty = false;
    if (!existsSync(this.path)) return false;
    const buf = readFileSync(this.path);
    // Read back from disk: as durable as the file system says it is; a load does not fsync.
    this.synced = true;
    if (buf.length % this.entrySize !== 0) return false;
    for (let at = 0; at < buf.length; at += this.entrySize) {
      const [key, value] = this.decodeEntry(buf, at);
      if (!this.entries.append(key, value)) {
        this.entries.clear();
        return false;
      }
    }
    return true;
  }

  /**
   * Writes the entries if they changed since the last write: to a temporary file renamed over
   * the old one, so a crash mid-write leaves the previous complete file. `sync` fsyncs first.
   */
  persist(sync: boolean): void {
    if (!this.dirty) {
      if (sync && !this.synced && existsSync(this.path)) this.fsyncFile();
      return;
    }
    const n = this.entries.size;
    const buf = Buffer.allocUnsafe(n * this.entrySize);
    for (let i = 0; i < n; i++)
      this.encodeEntry(buf, i * this.entrySize, this.entries.keyAt(i), this.entries.valueAt(i));
    const tmp = `${this.path}${TMP_SUFFIX}`;
    const fd = openSync(tmp, 'w');
    try {
      writeFullySync(fd, buf, 0);
      if (sync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    this.dirty = false;
    this.synced = sync;
  }

  private fsyncFile(): void {
    const fd = openSync(this.path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.synced = true;
  }

  /** Marks the in-memory entries as needing a write (after a rebuild). */
  markDirty(): void {
    this.dirty = true;
  }

  renameTo(path: string): void {
    if (existsSync(this.path)) renameSync(this.path, path);
    else this.dirty = true;
    this.path = path;
  }

  deleteFile(): void {
    rmSync(this.path, { force: true });
  }
}
