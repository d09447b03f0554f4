import { ErrorCode } from '@fjord/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AutoTopicCreationManager } from '../../src/server/AutoTopicCreationManager.js';

describe('AutoTopicCreationManager', () => {
  it('answers LEADER_NOT_AVAILABLE while a creation is under way, never asks for a topic twice, and says when it is done', async () => {
    const requests: { topics: string[]; answer: (codes: Map<string, number>) => void }[] = [];
    const manager = new AutoTopicCreationManager({
      create: (topics) =>
        new Promise((answer) => {
          requests.push({ topics: [...topics], answer });
        }),
      awaitVisible: async () => {},
      log: pino({ level: 'silent' }),
    });
    const settledAfter = (p: Promise<void>) => {
      const state = { settled: false };
      void p.then(() => {
        state.settled = true;
      });
      return state;
    };
    const first = manager.createTopics(['a', 'b']);
    expect([...first.answers]).toEqual([
      ['a', ErrorCode.LEADER_NOT_AVAILABLE],
      ['b', ErrorCode.LEADER_NOT_AVAILABLE],
    ]);
    // A retry naming one of them and a new one asks only for the new one, and waits on both creations.
    const retry = manager.createTopics(['b', 'c']);
    expect(requests.map((r) => r.topics)).toEqual([['a', 'b'], ['c']]);
    expect(manager.creating).toEqual(new Set(['a', 'b', 'c']));
    const firstDone = settledAfter(first.settled);
    const retryDone = settledAfter(retry.settled);

    requests[1]!.answer(new Map([['c', ErrorCode.NONE]]));
    await new Promise((r) => setTimeout(r, 20));
    expect([firstDone.settled, retryDone.settled]).toEqual([false, false]);
    requests[0]!.answer(
      new Map([
        ['a', ErrorCode.NONE],
        ['b', ErrorCode.TOPIC_ALREADY_EXISTS],
      ]),
    );
    await manager.idle();
    expect([firstDone.settled, retryDone.settled]).toEqual([true, true]);
    expect(manager.creating.size).toBe(0);
  });
});
