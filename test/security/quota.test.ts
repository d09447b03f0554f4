/**
 * Quotas with real clients: a librdkafka producer over its user's producer_byte_rate (set with
 * AlterClientQuotas by @platformatic/kafka) is slowed to the quota and told throttle times (its
 * throttle callback fires), while another producer at the same time is not; the instance
 * bandwidth limit slows a producer no client quota applies to.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Broker, resolveBrokerConfig } from '@fjord/broker';
import { Admin } from '@platformatic/kafka';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const DRIVER = join(import.meta.dirname, 'drivers/rate_producer.py');
const USERS = ['admin', 'slow', 'fast'];
const started: { broker: Broker; dir: string }[] = [];

async function startBroker(extra: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'fjord-quota-'));
  const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required ${USERS.map((u) => `user_${u}="${u}-secret"`).join(' ')};`;
  const broker = await Broker.start(
    resolveBrokerConfig({
      overrides: new Map(
        Object.entries({
          listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
          'log.dirs': dir,
          'listener.name.sasl_plaintext.plain.sasl.jaas.config': jaas,
          // Two one-second windows: Kafka's rate arithmetic allows bursts of (windows - 1) windows' worth, so the
          // default 11 would need minutes of producing to average out; two make the quota tight within seconds.
          'quota.window.num': '2',
          'quota.window.size.seconds': '1',
          ...extra,
        }),
      ),
    }),
    pino({ level: process.env.FJORD_TEST_LOG ?? 'silent' }),
  );
  started.push({ broker, dir });
  return { broker, bootstrap: `127.0.0.1:${broker.port()}` };
}

afterEach(async () => {
  for (const { broker, dir } of started.splice(0)) {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

interface RateResult {
  bytes: number;
  rate: number;
  throttles: number;
  max_throttle_ms: number;
  per_second: number[];
}

async function produceFor(
  bootstrap: string,
  user: string,
  topic: string,
  seconds: number,
  target = 0,
): Promise<RateResult> {
  const args = [
    DRIVER,
    bootstrap,
    user,
    `${user}-secret`,
    topic,
    String(seconds),
    `${user}-client`,
    String(target),
  ];
  const { stdout } = await run('/usr/bin/python3', args, {
    timeout: (seconds + 30) * 1000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

const LIMIT = 400_000; // bytes per second

describe('client quotas (KIP-13, KIP-219) with real producers', () => {
  it('slows a producer over its user quota to within 10% of it, with throttle times; others are unaffected', {
    timeout: 120_000,
  }, async () => {
    const { bootstrap } = await startBroker();
    const admin = new Admin({
      clientId: 'quota-admin',
      bootstrapBrokers: [bootstrap],
      sasl: { mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' },
    });
    try {
      await admin.createTopics({ topics: ['q-slow', 'q-fast'], partitions: 1, replicas: 1 });
      await admin.alterClientQuotas({
        entries: [
          {
            entities: [{ entityType: 'user', entityName: 'slow' }],
            ops: [{ key: 'producer_byte_rate', value: LIMIT, remove: false }],
          },
        ],
      });
      const described = await admin.describeClientQuotas({
        components: [{ entityType: 'user', matchType: 0, match: 'slow' }],
      });
      expect(described).toEqual([
        {
          entity: [{ entityType: 'user', entityName: 'slow' }],
          values: [{ key: 'producer_byte_rate', value: LIMIT }],
        },
      ]);
    } finally {
      await admin.close();
    }
    const [slow, fast] = await Promise.all([
      produceFor(bootstrap, 'slow', 'q-slow', 20),
      // Paced, so the two share the machine's cores fairly; still far above the quota.
      produceFor(bootstrap, 'fast', 'q-fast', 20, LIMIT * 5),
    ]);
    // The broker counts whole requests (record and batch overhead on top of the 1 KiB values), so
    // the values acknowledged come in a little under the limit.
    expect(slow.rate, JSON.stringify(slow)).toBeGreaterThan(LIMIT * 0.9);
    expect(slow.rate, JSON.stringify(slow)).toBeLessThan(LIMIT * 1.1);
    expect(slow.throttles).toBeGreaterThan(0);
    expect(slow.max_throttle_ms).toBeGreaterThan(0);
    // The unthrottled producer ran at the same time, faster than the quota by far, and was never throttled.
    expect(fast.throttles).toBe(0);
    expect(fast.rate, JSON.stringify(fast)).toBeGreaterThan(LIMIT * 5 * 0.9);
  });

  it('holds an unquoted producer to fjord.instance.bandwidth.bytes.per.second', {
    timeout: 120_000,
  }, async () => {
    const { bootstrap } = await startBroker({ 'fjord.instance.bandwidth.bytes.per.second': String(LIMIT) });
    const admin = new Admin({
      clientId: 'quota-admin',
      bootstrapBrokers: [bootstrap],
      sasl: { mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' },
    });
    await admin.createTopics({ topics: ['q-instance'], partitions: 1, replicas: 1 });
    await admin.close();
    const r = await produceFor(bootstrap, 'fast', 'q-instance', 20);
    expect(r.rate, JSON.stringify(r)).toBeGreaterThan(LIMIT * 0.9);
    expect(r.rate, JSON.stringify(r)).toBeLessThan(LIMIT * 1.1);
    expect(r.throttles).toBeGreaterThan(0);
  });
});
