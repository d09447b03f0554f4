import { describe, expect, it } from 'vitest';
import { throttledReplicasOf } from '../src/reassignmentThrottle.js';

describe('reassignment throttles', () => {
  it('throttle the current holders as leaders and the added replicas as followers, moving partitions only', () => {
    const layout = [
      { topic: 'a', partition: 0, replicas: [1, 2, 3] },
      { topic: 'a', partition: 1, replicas: [2, 3, 1] },
      { topic: 'b', partition: 0, replicas: [3, 1, 2] },
    ];
    const plan = [
      { topic: 'a', partition: 0, replicas: [4, 2, 3] },
      { topic: 'a', partition: 1, replicas: [2, 3, 1] }, // listed but not moving
      { topic: 'b', partition: 0, replicas: [3, 5, 6] },
    ];
    expect(Object.fromEntries(throttledReplicasOf(layout, plan))).toEqual({
      a: {
        'leader.replication.throttled.replicas': '0:1,0:2,0:3',
        'follower.replication.throttled.replicas': '0:4',
      },
      b: {
        'leader.replication.throttled.replicas': '0:3,0:1,0:2',
        'follower.replication.throttled.replicas': '0:5,0:6',
      },
    });
  });
});
