import { describe, expect, it } from 'vitest';
import { landedOffsets, mirrorOffsetsGroup, mirrorTransactionalId } from '../src/mirror/MirrorWriter.js';

describe('landedOffsets', () => {
  it('maps each partition written in one piece to its base offset', () => {
    expect(
      landedOffsets([
        { topic: 'a', partition: 0, offset: 10n },
        { topic: 'a', partition: 1, offset: 0n },
        { topic: 'b', partition: 0, offset: 7n },
      ]),
    ).toEqual(
      new Map([
        ['a/0', 10n],
        ['a/1', 0n],
        ['b/0', 7n],
      ]),
    );
  });

  it('leaves out a partition whose records were split over more than one answer', () => {
    expect(
      landedOffsets([
        { topic: 'a', partition: 0, offset: 10n },
        { topic: 'a', partition: 0, offset: 15n },
        { topic: 'a', partition: 1, offset: 3n },
      ]),
    ).toEqual(new Map([['a/1', 3n]]));
  });
});

describe('names on the target', () => {
  it('a task keeps its transactional id wherever it runs; tasks and connectors differ', () => {
    expect(mirrorTransactionalId('con-1', 0)).toBe(mirrorTransactionalId('con-1', 0));
    expect(
      new Set([
        mirrorTransactionalId('con-1', 0),
        mirrorTransactionalId('con-1', 1),
        mirrorTransactionalId('con-2', 0),
      ]).size,
    ).toBe(3);
    expect(mirrorOffsetsGroup('con-1')).toBe('fjord-mirror.con-1');
  });
});
