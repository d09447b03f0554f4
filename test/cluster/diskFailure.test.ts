/**
 * A disk fails (JBOD): brokers with two log dirs each, RF=3, min.insync.replicas=2, an
 * idempotent acks=all producer running. One log dir of broker 1 disappears. Only the replicas in
 * it go offline: they leave leadership and the ISRs, while broker 1 keeps serving the replicas in
 * its other dir, and DescribeLogDirs reports the failed dir. Nothing acknowledged is lost.
 */
import { rmSync } from 'node:fs';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkLog,
  dumpTopic,
  ProducerWorkload,
  startTestCluster,
  type TestCluster,
  waitFor,
} from './harness.js';

let t: TestCluster;

beforeAll(async () => {
  t = await startTestCluster({
    brokers: 3,
    zones: 3,
    logDirsPerBroker: 2,
    overrides: { 'default.replication.factor': '3', 'min.insync.replicas': '2' },
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

/** partition → log dir of broker `id`'s replica, from DescribeLogDirs. */
async function placement(
  id: number,
  topic: string,
): Promise<{ dirs: Map<number, string>; errors: Map<string, number> }> {
  const r = await t.probe.sendTo(id, ApiKey.DescribeLogDirs, 4, { topics: null });
  const dirs = new Map<number, string>();
  const errors = new Map<string, number>();
  for (const d of r.results) {
    errors.set(d.logDir, d.errorCode);
    for (const tp of d.topics)
      if (tp.name === topic) for (const p of tp.partitions) dirs.set(p.partitionIndex, d.logDir);
  }
  return { dirs, errors };
}

describe('a failed log dir in a cluster', () => {
  it('fails over only the replicas on the failed disk; the broker keeps serving the rest', {
    timeout: 120_000,
  }, async () => {
    await t.probe.createTopic('jbod', 6, 3);
    const bootstrap = t.cluster.bootstrapServers;
    const w = new ProducerWorkload(bootstrap, 'jbod', 6, 15, 300, 'jb');
    await waitFor(() => w.acked().length > 300, 30_000, 'steady acks');

    const broker = t.cluster.broker(1);
    const { dirs } = await placement(1, 'jbod');
    const [failed, healthy] = broker.logDirs;
    const lost = [...dirs].filter(([, d]) => d === failed).map(([p]) => p);
    const kept = [...dirs].filter(([, d]) => d === healthy).map(([p]) => p);
    expect(lost.length).toBeGreaterThan(0);
    expect(kept.length).toBeGreaterThan(0);

    rmSync(failed!, { recursive: true, force: true });
    await waitFor(
      async () => {
        const ps = await t.probe.partitions('jbod');
        return lost.every((p) => ps[p]!.leader !== 1 && !ps[p]!.isr.includes(1) && ps[p]!.leader >= 0);
      },
      20_000,
      'the failed dir’s replicas to leave ISRs and leadership',
    );
    const after = await t.probe.partitions('jbod');
    for (const p of kept) expect(after[p]!.isr).toContain(1);
    const { errors } = await placement(1, 'jbod');
    expect(errors.get(failed!)).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(errors.get(healthy!)).toBe(ErrorCode.NONE);

    const summary = await w.finished();
    const report = checkLog(w.acked(), await dumpTopic(bootstrap, 'jbod'));
    console.log(
      `disk failure: ${summary.sent} sent, ${report.acknowledged} acknowledged, ${report.inLog} in the log`,
    );
    expect(report).toMatchObject({ lost: [], duplicated: [], outOfOrder: [] });
    expect(broker.running).toBe(true);
  });
});
