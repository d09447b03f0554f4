import { describe, expect, it } from 'vitest';
import {
  landedOffsets,
  landedOverPieces,
  mirrorOffsetsGroup,
  mirrorTransactionalId,
  sendPieces,
} from '../src/mirror/MirrorWriter.js';

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

describe('sending a round in pieces', () => {
  const message = (valueBytes: number, header = 0) => ({
    value: Buffer.alloc(valueBytes),
    headers: new Map(header ? [[Buffer.from('__fjord.mirror.path'), Buffer.alloc(header)]] : []),
  });

  it('keeps every piece under the limit, in order, a record too large for any piece alone', () => {
    const messages = [
      message(100_000, 50),
      message(100_000, 50),
      message(100_000, 50),
      message(400_000),
      message(10),
    ];
    const pieces = sendPieces(messages, 256 * 1024);
    expect(pieces.flat()).toEqual(messages);
    expect(pieces.map((p) => p.length)).toEqual([2, 1, 1, 1]);
  });

  it('maps a partition only while its pieces landed back to back', () => {
    const counts = (entries: [string, number][]) => new Map(entries);
    expect(
      landedOverPieces([
        {
          landed: new Map([
            ['a/0', 10n],
            ['a/1', 0n],
          ]),
          counts: counts([
            ['a/0', 5],
            ['a/1', 2],
          ]),
        },
        {
          landed: new Map([
            ['a/0', 15n],
            ['a/1', 9n],
          ]),
          counts: counts([
            ['a/0', 3],
            ['a/1', 1],
          ]),
        },
        { landed: new Map([['b/0', 4n]]), counts: counts([['b/0', 1]]) },
      ]),
    ).toEqual(
      new Map([
        ['a/0', 10n],
        ['b/0', 4n],
      ]),
    );
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
