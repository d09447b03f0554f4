import { describe, expect, it } from 'vitest';
import { assessHealth, type ObservedBroker } from '../src/health/assessHealth.js';

const up = (brokerId: number, zone = `az-${brokerId}`): ObservedBroker => ({
  brokerId,
  zone,
  host: 'default',
  observed: { state: 'running', reachable: true, restarts: 0, lastError: null },
});

describe('instance health from what the zone agents report', () => {
  it('is healthy when every broker runs and answers', () => {
    expect(assessHealth([up(1), up(2), up(3)], new Map())).toEqual({
      health: 'healthy',
      reason: null,
      missing: [],
    });
  });

  it('is repairing while a broker restarts or is replaced, naming each', () => {
    const restarting: ObservedBroker = {
      brokerId: 2,
      zone: 'az-2',
      host: 'default',
      observed: { state: 'backoff', reachable: false, restarts: 2, lastError: 'exited' },
    };
    const gone: ObservedBroker = { brokerId: 3, zone: 'az-3', host: 'default', observed: undefined };
    const a = assessHealth([up(1), restarting, gone], new Map());
    expect(a.health).toBe('repairing');
    expect(a.reason).toBe(
      'broker 2 (az-2) is being restarted (2 restarts); broker 3 (az-3) is gone from its host and is being replaced',
    );
    expect(a.missing).toEqual([3]);
  });

  it('is degraded when a broker crash-loops, is stopped, does not answer, or its agent is unreachable', () => {
    const looping: ObservedBroker = {
      brokerId: 1,
      zone: 'az-1',
      host: 'default',
      observed: {
        state: 'crash-loop',
        reachable: false,
        restarts: 5,
        lastError: 'start-up\nConfigError: num.partitions',
      },
    };
    const mute: ObservedBroker = {
      brokerId: 2,
      zone: 'az-2',
      host: 'default',
      observed: { state: 'running', reachable: false, restarts: 0, lastError: null },
    };
    const a = assessHealth([looping, mute, up(3)], new Map([['az-3/default', 'ECONNREFUSED']]));
    expect(a.health).toBe('degraded');
    expect(a.reason).toContain(
      'broker 1 (az-1) keeps crashing; restarts paused: ConfigError: num.partitions',
    );
    expect(a.reason).toContain('broker 2 (az-2) runs but does not answer');
    expect(a.reason).toContain('broker 3 (az-3): its zone agent does not answer (ECONNREFUSED)');
    // An unreachable agent says nothing about whether the broker is gone: no replacement.
    expect(a.missing).toEqual([]);
  });
});
