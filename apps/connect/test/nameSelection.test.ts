import { describe, expect, it } from 'vitest';
import { selectNames } from '../src/mirror/nameSelection.js';
import { assignedPartitions } from '../src/taskAssignment.js';

describe('mirror topic selection', () => {
  it('takes whole-name matches of an include pattern unless an exclude pattern matches; never internal topics', () => {
    const names = ['orders', 'orders-eu', 'orders.dlq', 'payments', 'myorders', '__consumer_offsets'];
    expect(selectNames(names, ['orders.*'], ['.*\\.dlq'])).toEqual(['orders', 'orders-eu']);
    expect(selectNames(names, ['orders', 'pay.*'], [])).toEqual(['orders', 'payments']);
    expect(selectNames(names, ['.*'], [])).not.toContain('__consumer_offsets');
  });
});

describe('task assignment', () => {
  it('deals every partition to exactly one task, in topic then partition order', () => {
    const counts = new Map([
      ['b', 2],
      ['a', 3],
    ]);
    const tasks = [0, 1].map((t) => assignedPartitions(counts, 2, t).map((p) => `${p.topic}-${p.partition}`));
    expect(tasks).toEqual([
      ['a-0', 'a-2', 'b-1'],
      ['a-1', 'b-0'],
    ]);
  });
});
