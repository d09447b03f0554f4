import { describe, expect, it } from 'vitest';
import { committedBatches } from '../src/committedBatches.js';

const data = (firstOffset: number, producerId = -1n, transactional = false) => ({
  firstOffset: BigInt(firstOffset),
  attributes: transactional ? 0x10 : 0,
  producerId,
});
const marker = (firstOffset: number, producerId: bigint) => ({
  firstOffset: BigInt(firstOffset),
  attributes: 0x30,
  producerId,
});

describe('committed batches of a read_committed fetch', () => {
  it('drops markers and the batches of aborted transactions, keeps committed and plain ones', () => {
    const batches = [
      data(0),
      data(1, 7n, true), // aborted (7 from 1)
      data(2, 8n, true), // committed
      data(3, 7n, true), // aborted
      marker(4, 7n), // ABORT of 7
      marker(5, 8n), // COMMIT of 8
      data(6, 7n, true), // 7's next transaction, committed
      marker(7, 7n),
      data(8),
    ];
    const kept = [...committedBatches(batches, [{ producerId: 7n, firstOffset: 1n }])];
    expect(kept.map((b) => Number(b.firstOffset))).toEqual([0, 2, 6, 8]);
  });
});
