import type { RestClient } from '@fjord/test-support/api';
import {
  eventually,
  type MonitoredService,
  prometheusApi,
  startMonitoredService,
} from '@fjord/test-support/monitoring';
import { waitForOperation } from '@fjord/test-support/service';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The autoscaler end to end: a real Prometheus scraping a managed instance, a kafkajs producer
 * loading it above the bandwidth target, the worker's autoscaler resizing it as `autoscaler`, and
 * scaling it back once the traffic stops and the cooldown has passed.
 */
const TARGET_PERCENT = 20; // of a 10 MB/s spec: 2 MB/s
const LOAD_MBPS = 5;
const HOLD_SECONDS = 10;
const COOLDOWN_SECONDS = 30;

let s: MonitoredService;
let client: RestClient;
let instanceId: string;
let bootstrap: string;

beforeAll(async () => {
  s = await startMonitoredService(1, { FJORD_AUTOSCALE_MS: '1000' });
  client = (await s.t.tenant('elastic')).client;
  const created = await client.call('POST', '/v1/instances', {
    name: 'elastic',
    zones: ['az-1'],
    brokerCount: 1,
    spec: { bandwidthMBps: 10 },
  });
  expect(created.status).toBe(202);
  instanceId = created.body.instance.id;
  expect((await waitForOperation(client, created.body.operation.id, 180_000)).status).toBe('succeeded');
  const ins = (await client.call('GET', `/v1/instances/${instanceId}`)).body;
  bootstrap = ins.bootstrapServers.find((b: { route: string }) => b.route === 'internal').servers;
  const topic = await client.call('POST', `/v1/instances/${instanceId}/topics`, {
    name: 'load',
    partitions: 3,
  });
  expect((await waitForOperation(client, topic.body.operation.id, 120_000)).status).toBe('succeeded');
}, 300_000);

afterAll(async () => {
  await s?.close();
});

/** A kafkajs producer paced at `mbps` until stopped; counts what the brokers acknowledged. */
function pacedProducer(mbps: number) {
  const kafka = new kafkajs.Kafka({ brokers: bootstrap.split(','), logLevel: kafkajs.logLevel.NOTHING });
  const producer = kafka.producer();
  const value = Buffer.alloc(50_000, 'x');
  let running = true;
  let acked = 0;
  const done = (async () => {
    await producer.connect();
    const started = Date.now();
    while (running) {
      await producer.send({
        topic: 'load',
        acks: 1,
        messages: Array.from({ length: 10 }, (_, i) => ({ key: String(i), value })),
      });
      acked += 10 * value.length;
      // Ahead of the pace: wait; behind (a busy machine): send again at once.
      const ahead = acked / (mbps * 1000) - (Date.now() - started);
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    }
    await producer.disconnect();
  })();
  return {
    acked: () => acked,
    async stop() {
      running = false;
      await done;
    },
  };
}

interface OperationBody {
  id: string;
  kind: string;
  actor: string;
  status: string;
  createdAt: string;
  updatedAt: string;
}

async function autoscalerResizes(): Promise<OperationBody[]> {
  const r = await client.call('GET', `/v1/operations?instanceId=${instanceId}&limit=100`);
  expect(r.status).toBe(200);
  return (r.body.items as OperationBody[]).filter(
    (o) => o.kind === 'instance.resize' && o.actor === 'autoscaler',
  );
}

const recommendation = async () =>
  (await client.call('GET', `/v1/instances/${instanceId}/autoscaling-policy/recommendation`)).body;

describe('autoscaling with a real Prometheus and a real producer', () => {
  it('scales bandwidth out under sustained load, and back in after the cooldown once quiet', async () => {
    const policy = await client.call('PUT', `/v1/instances/${instanceId}/autoscaling-policy`, {
      minBrokers: 1,
      maxBrokers: 1,
      minBandwidthMBps: 10,
      maxBandwidthMBps: 50,
      targetBandwidthPercent: TARGET_PERCENT,
      targetDiskPercent: 90,
      holdSeconds: HOLD_SECONDS,
      cooldownSeconds: COOLDOWN_SECONDS,
    });
    expect(policy.status).toBe(201);
    await eventually('the broker scraped', 120_000, async () => {
      const t = await prometheusApi<{ activeTargets: { labels: Record<string, string>; health: string }[] }>(
        s.stack,
        '/api/v1/targets?state=active',
      );
      return t.activeTargets.some((x) => x.labels.instance === instanceId && x.health === 'up')
        ? true
        : undefined;
    });
    // Quiet: nothing to do once a hold time of samples is in.
    const quiet = await eventually('a quiet recommendation over a whole hold time', 120_000, async () => {
      const r = await recommendation();
      return r.observed.bandwidth.heldSeconds >= HOLD_SECONDS - 1 ? r : undefined;
    });
    expect(quiet.decision).toEqual({ action: 'none', brokerCount: 1, bandwidthMBps: 10 });
    expect(quiet.reason).toMatch(/bandwidth at 0%, within the target band/);
    expect(await autoscalerResizes()).toEqual([]);

    const producer = pacedProducer(LOAD_MBPS);
    let out: OperationBody;
    try {
      out = await eventually(
        'the autoscaler scaling out',
        180_000,
        async () => (await autoscalerResizes())[0],
      );
      const finished = await waitForOperation(client, out.id, 180_000);
      expect(finished.status).toBe('succeeded');
      out = finished;
      // Within the cooldown, it says so.
      expect((await recommendation()).reason).toMatch(/^cooldown after the last resize until /);
    } finally {
      await producer.stop();
    }
    console.log(`produced ${(producer.acked() / 1e6).toFixed(1)} MB`);
    const grown = (await client.call('GET', `/v1/instances/${instanceId}`)).body;
    // 5 MB/s sized to 80% of the 20% target: 5 / 0.16 → 40 MB/s (a slower producer: less, above 10).
    expect(grown.spec.bandwidthMBps).toBeGreaterThan(10);
    expect(grown.spec.bandwidthMBps).toBeLessThanOrEqual(50);
    expect(grown.brokerCount).toBe(1);
    console.log(`autoscaled bandwidth 10 → ${grown.spec.bandwidthMBps} MB/s (operation ${out.id})`);
    const audit = await client.call(
      'GET',
      `/v1/audit-events?resource=instance/${instanceId}&action=ResizeInstance`,
    );
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({
      actor: 'autoscaler',
      details: {
        operationId: out.id,
        reason: expect.stringMatching(/^bandwidth 10 → \d+ MB\/s: bandwidth above 20%/),
      },
    });

    // Quiet again: back to the minimum, not before the cooldown after the first resize.
    const back = await eventually('the autoscaler scaling back in', 180_000, async () =>
      (await autoscalerResizes()).find((o) => o.id !== out.id),
    );
    expect((await waitForOperation(client, back.id, 180_000)).status).toBe('succeeded');
    expect(Date.parse(back.createdAt) - Date.parse(out.updatedAt)).toBeGreaterThanOrEqual(
      COOLDOWN_SECONDS * 1000,
    );
    const shrunk = (await client.call('GET', `/v1/instances/${instanceId}`)).body;
    expect(shrunk).toMatchObject({ status: 'running', brokerCount: 1, spec: { bandwidthMBps: 10 } });
  }, 600_000);
});
