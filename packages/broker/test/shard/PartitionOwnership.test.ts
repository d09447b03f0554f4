import { describe, expect, it } from 'vitest';
import {
  mergeInRequestOrder,
  PartitionOwnership,
  type PartitionRef,
} from '../../src/shard/PartitionOwnership.js';

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

describe('plan and merge', () => {
  const refs: PartitionRef[] = [
    { topic: 'orders', partition: 3 },
    { topic: 'orders', partition: 0 },
    { topic: 'audit', partition: 1 },
    { topic: 'orders', partition: 1 },
    { topic: 'audit', partition: 0 },
    { topic: 'orders', partition: 2 },
  ];

  it('gives each shard its partitions in request order and every partition to exactly one shard', () => {
    const own = new PartitionOwnership(3);
    const plans = own.plan(refs);
    expect(plans.map((p) => p.shard)).toEqual([...plans.map((p) => p.shard)].sort((a, b) => a - b));
    const all = plans.flatMap((p) => p.positions).sort((a, b) => a - b);
    expect(all).toEqual([0, 1, 2, 3, 4, 5]);
    for (const plan of plans) {
      expect([...plan.positions]).toEqual([...plan.positions].sort((a, b) => a - b));
      for (const pos of plan.positions)
        expect(own.ownerOf(refs[pos]!.topic, refs[pos]!.partition)).toBe(plan.shard);
    }
  });

  it('merges shard answers back into the order the client sent', () => {
    const own = new PartitionOwnership(3);
    const plans = own.plan(refs);
    const answers = plans.map((plan) =>
      plan.positions.map((pos) => `${refs[pos]!.topic}-${refs[pos]!.partition}@${plan.shard}`),
    );
    const merged = mergeInRequestOrder(refs.length, plans, answers);
    expect(merged.map((s) => s.split('@')[0])).toEqual(refs.map((r) => `${r.topic}-${r.partition}`));
  });

  it('reports a shard that answers too few or too many partitions instead of a partial response', () => {
    const own = new PartitionOwnership(2);
    const plans = own.plan(refs);
    const short = plans.map((plan, i) => (i === 0 ? plan.positions.slice(1) : plan.positions));
    expect(() => mergeInRequestOrder(refs.length, plans, short)).toThrow(/answered/);
    expect(() =>
      mergeInRequestOrder(
        refs.length,
        plans,
        plans.slice(1).map((p) => p.positions),
      ),
    ).toThrow(/shard answers/);
    expect(() =>
      mergeInRequestOrder(
        refs.length + 1,
        plans,
        plans.map((p) => p.positions),
      ),
    ).toThrow(/no shard answered position 6/);
  });
});
