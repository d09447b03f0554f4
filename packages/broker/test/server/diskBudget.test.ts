/**
 * The instance disk budget on a real in-process broker, filled by real clients (kcat, kafkajs)
 * over real sockets, with the budget set live the way the control plane and ops tooling set it
 * (IncrementalAlterConfigs on the BROKER resource) and watched through /metrics.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type RunningBroker, startBroker } from '@fjord/test-support/broker';
import { Admin } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exact, scrape } from '../metrics/promText.js';

const run = promisify(execFile);

async function kcatProduce(bootstrap: string, topic: string, partition: number, lines: string[]) {
  const p = run('kcat', ['-b', bootstrap, '-t', topic, '-P', '-p', String(partition), '-X', 'acks=1'], {
    timeout: 60_000,
  });
  p.child.stdin!.end(`${lines.join('\n')}\n`);
  await p;
}

async function kcatLast(bootstrap: string, topic: string, partition: number): Promise<string> {
  const { stdout } = await run(
    'kcat',
    ['-b', bootstrap, '-t', topic, '-C', '-p', String(partition), '-o', '-1', '-c', '1', '-e', '-q'],
    { timeout: 60_000 },
  );
  return stdout.trim();
}

/** Sets dynamic broker configs on broker 1's own resource, as the worker's liveSpec does. */
async function setBrokerConfigs(bootstrap: string, configs: Record<string, string>) {
  const admin = new Admin({ clientId: 'ops-tooling', bootstrapBrokers: [bootstrap] });
  try {
    await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: 4,
          resourceName: '1',
          configs: Object.entries(configs).map(([name, value]) => ({ name, configOperation: 0, value })),
        },
      ],
    });
  } finally {
    await admin.close();
  }
}

const metric = async (broker: RunningBroker, name: string) =>
  exact(await scrape(broker.broker.metricsPort!), name) ?? Number.NaN;

describe('disk budget: the high-water mark', () => {
  const PARTITIONS = 3;
  const ROUNDS = 8;
  const PER_ROUND = 400;
  const BUDGET = 2_000_000;
  let broker: RunningBroker;
  let kafka: Kafka;
  beforeAll(async () => {
    broker = await startBroker({
      'fjord.metrics.listen': '127.0.0.1:0',
      'fjord.instance.disk.check.interval.ms': '200',
    });
    kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'disk-test', logLevel: logLevel.NOTHING });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('deletes the oldest segments across partitions below the mark, keeping the newest data readable', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic: 'fill',
            numPartitions: PARTITIONS,
            configEntries: [{ name: 'segment.bytes', value: '100000' }],
          },
        ],
      });
      await setBrokerConfigs(broker.bootstrap, {
        'fjord.instance.disk.bytes': String(BUDGET),
        'fjord.instance.disk.high.water.ratio': '0.8',
      });
      await eventually(
        async () => (await metric(broker, 'fjord_disk_budget_high_water_bytes')) === BUDGET * 0.8,
        'the budget reported in /metrics',
      );

      const value = (r: number, p: number, i: number) => `r${r}-p${p}-${i}-${'v'.repeat(1000)}`;
      for (let r = 0; r < ROUNDS; r++)
        for (let p = 0; p < PARTITIONS; p++)
          await kcatProduce(
            broker.bootstrap,
            'fill',
            p,
            Array.from({ length: PER_ROUND }, (_, i) => value(r, p, i)),
          );
      // About 3.3 MB went in (kcat's retries carried whatever met the full budget on the way);
      // usage ends below the 1.6 MB mark once the checks caught up.
      await eventually(async () => {
        const m = await scrape(broker.broker.metricsPort!);
        return (
          exact(m, 'fjord_disk_budget_used_bytes')! < exact(m, 'fjord_disk_budget_high_water_bytes')! &&
          exact(m, 'fjord_disk_budget_deleted_segments_total')! > 0
        );
      }, 'usage back below the high-water mark');
      expect(await metric(broker, 'fjord_disk_budget_high_water_hits_total')).toBeGreaterThan(0);

      const offsets = await admin.fetchTopicOffsets('fill');
      for (const o of offsets) {
        expect(Number(o.high)).toBe(ROUNDS * PER_ROUND);
        // Every partition lost its oldest records: they were all about as old.
        expect(Number(o.low)).toBeGreaterThan(0);
      }
      // The newest records survive. kcat (not idempotent) resends what the full budget refused, so
      // its last round's records can land out of order: the newest is from that round, not always its last.
      for (let p = 0; p < PARTITIONS; p++)
        expect(await kcatLast(broker.bootstrap, 'fill', p)).toMatch(
          new RegExp(`^r${ROUNDS - 1}-p${p}-\\d+-v+$`),
        );

      // Still serving: a new record goes in and comes back.
      await kcatProduce(broker.bootstrap, 'fill', 0, ['after']);
      expect(await kcatLast(broker.bootstrap, 'fill', 0)).toBe('after');
    } finally {
      await admin.disconnect();
    }
  }, 120_000);
});

describe('disk budget: the hard limit', () => {
  const BUDGET = 1_000_000;
  let broker: RunningBroker;
  let kafka: Kafka;
  beforeAll(async () => {
    // The static budget, as server.properties from the worker's broker spec carries it.
    broker = await startBroker({
      'fjord.metrics.listen': '127.0.0.1:0',
      'fjord.instance.disk.bytes': String(BUDGET),
      'fjord.instance.disk.check.interval.ms': '200',
    });
    kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'disk-test', logLevel: logLevel.NOTHING });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('refuses produce with retriable KAFKA_STORAGE_ERROR, writes nothing of it, and takes it once space is freed', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const impatient = kafka.producer({ retry: { retries: 0 } });
    const patient = kafka.producer({ retry: { retries: 100, initialRetryTime: 200, maxRetryTime: 1000 } });
    await Promise.all([impatient.connect(), patient.connect()]);
    try {
      // 'whole' keeps everything in its active segment, which the budget never deletes.
      await admin.createTopics({ topics: [{ topic: 'whole' }, { topic: 'small' }] });
      const value = 'w'.repeat(50_000);
      let acknowledged = 0;
      let refusal: unknown;
      for (let i = 0; i < 40 && refusal === undefined; i++) {
        try {
          await impatient.send({ topic: 'whole', acks: 1, messages: [{ value }] });
          acknowledged++;
        } catch (e) {
          refusal = e;
        }
      }
      // kafkajs wraps the broker's error once its (zero) retries are spent.
      expect((refusal as { cause?: unknown }).cause).toMatchObject({
        type: 'KAFKA_STORAGE_ERROR',
        retriable: true,
      });
      expect(acknowledged).toBeGreaterThanOrEqual(BUDGET / 50_000 - 1);
      expect(await metric(broker, 'fjord_disk_budget_refused_produce_total')).toBeGreaterThan(0);
      expect(await metric(broker, 'fjord_disk_budget_used_bytes')).toBeGreaterThanOrEqual(BUDGET);
      // Exactly the acknowledged records are in the log, all readable: nothing partial was written.
      const [whole] = await admin.fetchTopicOffsets('whole');
      expect(Number(whole!.high)).toBe(acknowledged);
      const { stdout } = await run(
        'kcat',
        ['-b', broker.bootstrap, '-t', 'whole', '-C', '-o', 'beginning', '-e', '-q', '-f', '%S\n'],
        { timeout: 60_000 },
      );
      expect(stdout.trim().split('\n')).toEqual(Array(acknowledged).fill('50000'));

      // A retrying producer waits it out: freeing space (the topic deleted) lets its write in.
      const waiting = patient.send({ topic: 'small', acks: -1, messages: [{ value: 'through' }] });
      await new Promise((r) => setTimeout(r, 1500));
      await admin.deleteTopics({ topics: ['whole'] });
      await waiting;
      const [small] = await admin.fetchTopicOffsets('small');
      expect(Number(small!.high)).toBe(1);
      expect(await metric(broker, 'fjord_disk_budget_used_bytes')).toBeLessThan(BUDGET);
    } finally {
      await Promise.all([impatient.disconnect(), patient.disconnect()]);
      await admin.disconnect();
    }
  }, 120_000);
});
