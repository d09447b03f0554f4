/**
 * The compatibility matrix against standalone brokers: each client gets its own broker started
 * here (the restart cell restarts it). The table goes to test/compat/.results/RESULTS.md
 * (test/compat/RESULTS.md with FJORD_COMPAT_UPDATE_RESULTS=1).
 */

import {
  COMPAT_PASSWORD,
  COMPAT_USER,
  type RunningBroker,
  removeDir,
  startBroker,
} from '@fjord/test-support/broker';
import { afterAll, describe, expect, it } from 'vitest';
import { type CompatTarget, type MatrixResults, runClient, selectedClients, writeResults } from './matrix.js';

const results: MatrixResults = new Map();

function standalone(b: { current: RunningBroker }): CompatTarget {
  return {
    get bootstrap() {
      return b.current.bootstrap;
    },
    brokers: 1,
    ensureTopic: async (name, partitions) => {
      await b.current.broker.services.ensureTopic(name, partitions);
    },
    group: async (groupId) => {
      const g = b.current.broker.services.groups.describe(groupId);
      return { state: g.state, members: g.members.length };
    },
    restart: async () => {
      b.current = await b.current.restart();
    },
    get secured() {
      const bootstraps = b.current.bootstraps;
      return {
        bootstraps: { SASL_PLAINTEXT: bootstraps.SASL_PLAINTEXT!, SASL_SSL: bootstraps.SASL_SSL! },
        ca: b.current.ca,
        username: COMPAT_USER,
        password: COMPAT_PASSWORD,
      };
    },
  };
}

describe.concurrent('real Kafka clients against a Fjord broker', () => {
  for (const client of selectedClients()) {
    it(client.name, { timeout: 600_000 }, async () => {
      const b = { current: await startBroker() };
      try {
        expect(await runClient(client, standalone(b), results)).toEqual([]);
      } finally {
        await b.current.stop();
        removeDir(b.current.dataDir);
      }
    });
  }
});

afterAll(() => {
  writeResults(
    'RESULTS.md',
    results,
    '# Compatibility matrix',
    'Written by `test/compat/compat.test.ts` (part of `npm test`): each cell is a real client over a real\nsocket against a standalone Fjord broker started by the test. ✅ passed, ❌ failed, — not applicable\n(reason below the table). The same matrix against a replicated cluster is in `RESULTS-cluster.md`.',
  );
});
