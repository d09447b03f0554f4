/**
 * Chaos: idempotent acks=all producers (librdkafka) write to an RF=3, min.insync.replicas=2 topic
 * while brokers are killed (SIGKILL) or stopped and restarted at random, one AZ at a time, and
 * PostgreSQL — holding the metadata log and the controller lease — is restarted once. Afterwards
 * every partition is read back and checked: no acknowledged message lost, none duplicated,
 * order per partition kept. The counts are printed.
 *
 * Short in CI (FJORD_CHAOS_SECONDS, default 40); run on demand for longer, e.g.
 *   FJORD_CHAOS_SECONDS=600 npx vitest run test/chaos
 * FJORD_CHAOS_SEED replays a run (the seed is printed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkLog,
  dumpTopic,
  ProducerWorkload,
  startTestCluster,
  type TestCluster,
  waitFor,
} from '../cluster/harness.js';
import { PostgresServer } from './PostgresServer.js';
import { seededRandom } from './seededRandom.js';

const SECONDS = Number(process.env.FJORD_CHAOS_SECONDS ?? 40);
const SEED = Number(process.env.FJORD_CHAOS_SEED ?? Date.now() % 1_000_000);
const ZONES = 3;
const PARTITIONS = 6;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let pg: PostgresServer;
let t: TestCluster;

beforeAll(async () => {
  pg = await PostgresServer.start();
  t = await startTestCluster({
    brokers: 3,
    zones: ZONES,
    postgresServer: pg.url,
    overrides: {
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'replica.lag.time.max.ms': '10000',
      'leader.imbalance.check.interval.seconds': '5',
    },
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
  pg?.destroy();
});

describe('chaos', () => {
  it(`loses, duplicates and reorders nothing acknowledged while AZs fail for ${SECONDS} s (seed ${SEED})`, {
    timeout: (SECONDS + 240) * 1000,
  }, async () => {
    const rnd = seededRandom(SEED);
    console.log(`chaos: seed ${SEED}, ${SECONDS} s`);
    await t.probe.createTopic('chaos', PARTITIONS, 3);
    const bootstrap = t.cluster.bootstrapServers;
    const producers = [0, 1].map(
      (i) => new ProducerWorkload(bootstrap, 'chaos', PARTITIONS, SECONDS, 150, `p${i}`),
    );
    const events: string[] = [];
    const started = Date.now();
    let pgRestarted = false;
    while (Date.now() - started < (SECONDS - 5) * 1000) {
      await sleep(1000 + rnd() * 2000);
      const elapsed = (Date.now() - started) / 1000;
      if (!pgRestarted && elapsed > SECONDS / 3) {
        pgRestarted = true;
        events.push(`${elapsed.toFixed(1)}s PostgreSQL restart`);
        pg.stop();
        await sleep(1500 + rnd() * 1500);
        pg.startAgain();
        continue;
      }
      const zone = `az-${1 + Math.floor(rnd() * ZONES)}`;
      const hard = rnd() < 0.7;
      const victims = t.cluster.inZone(zone);
      events.push(
        `${elapsed.toFixed(1)}s ${hard ? 'kill -9' : 'stop'} ${zone} (brokers ${victims.map((b) => b.id)})`,
      );
      for (const b of victims) await (hard ? b.kill() : b.stop());
      await sleep(500 + rnd() * 3000);
      for (const b of victims) await b.start();
    }
    const summaries = await Promise.all(producers.map((p) => p.finished()));
    // Let every replica catch up, so the read-back sees each partition's whole committed log.
    await waitFor(async () => (await t.probe.underReplicated()) === 0, 60_000, 'full ISRs after the chaos');
    const acked = producers.flatMap((p) => p.acked());
    const report = checkLog(acked, await dumpTopic(bootstrap, 'chaos'));
    const sent = summaries.reduce((n, s) => n + s.sent, 0);
    const failed = summaries.reduce((n, s) => n + s.failed, 0);
    console.log(`chaos events:\n  ${events.join('\n  ')}`);
    console.log(
      `chaos: ${sent} sent, ${report.acknowledged} acknowledged, ${failed} not acknowledged (timed out), ` +
        `${report.inLog} in the log; lost ${report.lost.length}, duplicated ${report.duplicated.length}, ` +
        `out of order ${report.outOfOrder.length}`,
    );
    expect(pgRestarted).toBe(true);
    expect(report.lost).toEqual([]);
    expect(report.duplicated).toEqual([]);
    expect(report.outOfOrder).toEqual([]);
    expect(report.acknowledged).toBeGreaterThan(sent / 2);
  });
});
