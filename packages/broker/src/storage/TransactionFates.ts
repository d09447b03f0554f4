/** One transaction of one producer in a partition's log: its first data offset and its marker. */
interface EndedTransaction {
  readonly first: number;
  readonly marker: number;
  readonly committed: boolean;
}

export type TransactionFate = 'committed' | 'aborted' | 'open';

/**
 * How each transaction in a log ended, learned from batch headers and markers in offset order:
 * what the cleaner needs to apply Kafka's rules (aborted records go, committed ones compact like
 * any other, a transaction without its marker is left whole).
 */
export class TransactionFates {
  private readonly ended = new Map<bigint, EndedTransaction[]>();
  private readonly open = new Map<bigint, number>();

  /** A transactional data batch of `producerId` starting at `offset` (batches in offset order). */
  onData(producerId: bigint, offset: number): void {
    if (!this.open.has(producerId)) this.open.set(producerId, offset);
  }

  /** A COMMIT or ABORT marker of `producerId` at `offset`. */
  onMarker(producerId: bigint, offset: number, committed: boolean): void {
    const first = this.open.get(producerId) ?? offset;
    this.open.delete(producerId);
    let list = this.ended.get(producerId);
    if (!list) {
      list = [];
      this.ended.set(producerId, list);
    }
    list.push({ first, marker: offset, committed });
  }

  /** The fate of the transaction that `producerId`'s batch at `offset` belongs to. */
  fateOf(producerId: bigint, offset: number): TransactionFate {
    const list = this.ended.get(producerId);
    if (!list) return 'open';
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.marker < offset) lo = mid + 1;
      else hi = mid;
    }
    const t = list[lo];
    if (!t || t.first > offset) return 'open';
    return t.committed ? 'committed' : 'aborted';
  }
}

/** A control record's key: version (int16), type (int16: 0 ABORT, 1 COMMIT). */
export function isCommitMarkerKey(key: Buffer): boolean {
  return key.length >= 4 && key.readInt16BE(2) === 1;
}
