import { describe, expect, it } from 'vitest';
import { PartitionOwnership } from '../../src/shard/PartitionOwnership.js';

describe('PartitionOwnership', () => {
  it('spreads a topic evenly: 64 partitions over 16 shards give each shard exactly 4', () => {
    const own = new PartitionOwnership(16);
    const counts = new Array<number>(16).fill(0);
    for (let p = 0; p < 64; p++) counts[own.ownerOf('orders', p)]!++;
    expect(counts).toEqual(new Array<number>(16).fill(4));
  });

  it('does not put partition 0 of every topic on one shard', () => {
    const own = new PartitionOwnership(16);
    const shards = new Set<number>();
    for (let t = 0; t < 200; t++) shards.add(own.ownerOf(`topic-${t}`, 0));
    expect(shards.size).toBe(16);
  });

  it('is stable: the same partition has the same owner in every instance (every process)', () => {
    const a = new PartitionOwnership(7);
    const b = new PartitionOwnership(7);
    for (let p = 0; p < 50; p++)
      expect(a.ownerOf('__consumer_offsets', p)).toBe(b.ownerOf('__consumer_offsets', p));
    // Pinned so a change of hash (which would move partitions between shards on upgrade) is seen.
    expect([0, 1, 2, 3].map((p) => a.ownerOf('orders', p))).toEqual([3, 4, 5, 6]); // FNV-1a("orders") = 845059820;
  });

  it('with one shard owns everything there', () => {
    const own = new PartitionOwnership(1);
    for (let p = 0; p < 10; p++) expect(own.ownerOf(`t${p}`, p)).toBe(0);
  });

  it('refuses shard counts and partitions that cannot be', () => {
    for (const n of [0, -1, 1.5, 1025, Number.NaN])
      expect(() => new PartitionOwnership(n)).toThrow(RangeError);
    expect(() => new PartitionOwnership(4).ownerOf('t', -1)).toThrow(RangeError);
  });
});
