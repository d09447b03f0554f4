/**
 * The compatibility matrix against a replicated cluster: 3 broker processes in 3 AZs, replication
 * factor 3 and min.insync.replicas 2 for every topic, shared by all clients at once (each in its
 * own topic and group names). The restart cell restarts every broker in turn, once for all of them.
 * The table goes to test/compat/.results/RESULTS-cluster.md
 * (test/compat/RESULTS-cluster.md with FJORD_COMPAT_UPDATE_RESULTS=1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../cluster/harness.js';
import { CLIENTS } from './clients.js';
import { type CompatTarget, type MatrixResults, runClient, writeResults } from './matrix.js';

const results: MatrixResults = new Map();
let t: TestCluster;

/**
 * One rolling restart for all clients: each client's restart cell waits here until every client
 * running at the time got there, then every broker restarts in turn while the clients idle between
 * their "before" and "after" halves — not while a slower client is still in an earlier cell, whose
 * checks do not expect brokers to go away. Clients vitest starts later (it runs a few tests at once)
 * find the restart done. Ten minutes after the first arrival it goes ahead anyway: a client stuck
 * before its restart cell must not hold the others past their timeouts.
 */
const restartBarrier = (() => {
  let running = 0;
  let arrived = 0;
  let started: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let release: () => void = () => {};
  const allThere = new Promise<void>((r) => {
    release = r;
  });
  const check = () => {
    if (arrived > 0 && arrived >= running) release();
  };
  return {
    /** A client starts its cells. */
    enter() {
      running++;
    },
    /** A client is done with its cells. */
    leave() {
      running--;
      check();
    },
    arrive(): Promise<void> {
      arrived++;
      if (arrived === 1) timer = setTimeout(release, 600_000);
      check();
      started ??= allThere.then(() => {
        clearTimeout(timer);
        return t.probe.rollingRestart();
      });
      return started;
    },
  };
})();

beforeAll(async () => {
  // Drivers that must name a replication factor when creating topics use the cluster's.
  process.env.FJORD_COMPAT_RF = '3';
  t = await startTestCluster({
    brokers: 3,
    zones: 3,
    overrides: { 'default.replication.factor': '3', 'min.insync.replicas': '2' },
  });
}, 120_000);

afterAll(async () => {
  writeResults(
    'RESULTS-cluster.md',
    results,
    '# Compatibility matrix: replicated cluster',
    'Written by `test/compat/compatCluster.test.ts` (part of `npm test`): the cells of `RESULTS.md`, with\nevery client at once against one cluster of 3 broker processes in 3 AZs, replication factor 3 and\nmin.insync.replicas 2. "restart+resume" restarts every broker in turn (controlled shutdowns), once\nfor all clients, between each client consuming before and its produce and consume after. ✅ passed, ❌ failed, — not applicable (reason below the table).',
  );
  await t?.close();
});

function cluster(): CompatTarget {
  return {
    bootstrap: t.cluster.bootstrapServers,
    brokers: 3,
    ensureTopic: (name, partitions) => t.probe.createTopic(name, partitions, 3),
    group: (groupId) => t.probe.group(groupId),
    restart: () => restartBarrier.arrive(),
  };
}

describe.concurrent('real Kafka clients against a 3-broker, 3-AZ cluster', () => {
  CLIENTS.forEach((client, i) => {
    it(client.name, { timeout: 900_000 }, async () => {
      restartBarrier.enter();
      try {
        expect(await runClient(client, cluster(), results, `c${i}-`)).toEqual([]);
      } finally {
        restartBarrier.leave();
      }
    });
  });
});
