import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { writeFileDurably } from './FileIO.js';

/** A transaction that ended with an ABORT marker in a partition (Kafka's AbortedTxn). */
export interface AbortedTransaction {
  readonly producerId: bigint;
  /** Offset of the transaction's first data batch in this partition. */
  readonly firstOffset: number;
  /** Offset of its ABORT marker. */
  readonly lastOffset: number;
  /** The last stable offset once the marker was written. */
  readonly lastStableOffset: number;
}

const VERSION = 0;
const ENTRY_SIZE = 2 + 8 + 8 + 8 + 8;

export function encodeAbortedTransaction(a: AbortedTransaction): Buffer {
  const buf = Buffer.allocUnsafe(ENTRY_SIZE);
  buf.writeInt16BE(VERSION, 0);
  buf.writeBigInt64BE(a.producerId, 2);
  buf.writeBigInt64BE(BigInt(a.firstOffset), 10);
  buf.writeBigInt64BE(BigInt(a.lastOffset), 18);
  buf.writeBigInt64BE(BigInt(a.lastStableOffset), 26);
  return buf;
}

/**
 * The entries of a `.txnindex` file. A torn last entry (a crash mid-append) or an entry of an
 * unknown version ends the list: what follows it cannot be trusted.
 */
export function decodeAbortedTransactions(buf: Buffer): AbortedTransaction[] {
  const out: AbortedTransaction[] = [];
  for (let pos = 0; pos + ENTRY_SIZE <= buf.length; pos += ENTRY_SIZE) {
    if (buf.readInt16BE(pos) !== VERSION) break;
    out.push({
      producerId: buf.readBigInt64BE(pos + 2),
      firstOffset: Number(buf.readBigInt64BE(pos + 10)),
      lastOffset: Number(buf.readBigInt64BE(pos + 18)),
      lastStableOffset: Number(buf.readBigInt64BE(pos + 26)),
    });
  }
  return out;
}

/**
 * A segment's aborted-transaction index (Kafka's TransactionIndex, `<base>.txnindex`): one entry
 * per ABORT marker in the segment, so that a restart knows what read_committed must skip without
 * reading the log. Small (aborts are rare), so it is kept in memory whole; the file is appended
 * to, rewritten on truncation and fsynced with the segment.
 */
export class TransactionIndex {
  private list: AbortedTransaction[];
  private unsynced = false;

  constructor(private path_: string) {
    this.list = existsSync(path_) ? decodeAbortedTransactions(readFileSync(path_)) : [];
  }

  get path(): string {
    return this.path_;
  }

  get entries(): readonly AbortedTransaction[] {
    return this.list;
  }

  append(entry: AbortedTransaction): void {
    appendFileSync(this.path_, encodeAbortedTransaction(entry));
    this.list.push(entry);
    this.unsynced = true;
  }

  /** Drops the entries whose marker is at or after `offset` (the log was cut there). */
  truncateFrom(offset: number): void {
    const kept = this.list.filter((e) => e.lastOffset < offset);
    if (kept.length === this.list.length) return;
    this.list = kept;
    if (kept.length === 0) rmSync(this.path_, { force: true });
    else writeFileDurably(this.path_, Buffer.concat(kept.map(encodeAbortedTransaction)));
    this.unsynced = false;
  }

  flush(): void {
    if (!this.unsynced) return;
    const fd = openSync(this.path_, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.unsynced = false;
  }

  renameTo(path: string): void {
    if (existsSync(this.path_)) renameSync(this.path_, path);
    this.path_ = path;
  }

  deleteFile(): void {
    rmSync(this.path_, { force: true });
  }
}
