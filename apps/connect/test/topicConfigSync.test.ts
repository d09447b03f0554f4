import { describe, expect, it } from 'vitest';
import { copiedConfig, overridesToCopy, planConfigSync } from '../src/mirror/topicConfigSync.js';

const m = (o: Record<string, string>) => new Map(Object.entries(o));
const copied = copiedConfig([]);

describe('topic configs a mirror copies', () => {
  it("leaves out MirrorMaker 2's excluded keys and the connector's own exclusions, whole names only", () => {
    for (const name of [
      'follower.replication.throttled.replicas',
      'leader.replication.throttled.replicas',
      'min.insync.replicas',
      'unclean.leader.election.enable',
      'message.timestamp.type',
      'message.timestamp.difference.max.ms',
    ])
      expect(copied(name), name).toBe(false);
    for (const name of ['retention.ms', 'cleanup.policy', 'max.message.bytes', 'min.insync.replicasX'])
      expect(copied(name), name).toBe(true);
    const own = copiedConfig(['retention\\..*']);
    expect(own('retention.ms')).toBe(false);
    expect(own('retention.bytes')).toBe(false);
    expect(own('cleanup.policy')).toBe(true);
    expect(own('min.insync.replicas')).toBe(false);
  });

  it('creates a topic with the copied overrides only', () => {
    expect(
      overridesToCopy(
        m({
          'retention.ms': '1000',
          'min.insync.replicas': '2',
          'leader.replication.throttled.replicas': '0:1',
        }),
        copied,
      ),
    ).toEqual(m({ 'retention.ms': '1000' }));
  });
});

describe('topic config sync plan', () => {
  it('sets new and changed keys, deletes keys gone from the source, leaves equal ones alone', () => {
    const plan = planConfigSync(
      m({ 'retention.ms': '2000', 'cleanup.policy': 'compact', 'max.message.bytes': '100000' }),
      m({ 'retention.ms': '1000', 'max.message.bytes': '100000', 'segment.ms': '60000' }),
      copied,
    );
    expect(plan).toEqual({
      set: [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'retention.ms', value: '2000' },
      ],
      delete: ['segment.ms'],
    });
  });

  it("never sets nor deletes excluded keys: the target's own min.insync.replicas and throttles stay", () => {
    const plan = planConfigSync(
      m({ 'min.insync.replicas': '1', 'retention.ms': '5' }),
      m({ 'min.insync.replicas': '2', 'follower.replication.throttled.replicas': '*', 'retention.ms': '5' }),
      copied,
    );
    expect(plan).toEqual({ set: [], delete: [] });
  });

  it('after a first look touches only keys that changed on the source since, so two-way mirrors do not undo a change', () => {
    const lastSeen = m({ 'retention.ms': '1000', 'segment.ms': '60000' });
    // The target (the other side) was changed to 9999 there and not yet copied back: left alone.
    const target = m({ 'retention.ms': '9999', 'segment.ms': '60000', 'cleanup.policy': 'compact' });
    expect(planConfigSync(lastSeen, target, copied, lastSeen)).toEqual({ set: [], delete: [] });
    // The source changed segment.ms and removed nothing else: only that goes over.
    const now = m({ 'retention.ms': '1000', 'segment.ms': '120000' });
    expect(planConfigSync(now, target, copied, lastSeen)).toEqual({
      set: [{ name: 'segment.ms', value: '120000' }],
      delete: [],
    });
    // The source removed segment.ms: it is deleted on the target.
    expect(planConfigSync(m({ 'retention.ms': '1000' }), target, copied, lastSeen)).toEqual({
      set: [],
      delete: ['segment.ms'],
    });
  });
});
