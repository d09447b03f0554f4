import { RestClient, startTestApi, type TestApi } from '@fjord/test-support/api';
import { TcpProxy } from '@fjord/test-support/tcpProxy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let base: TestApi;
let viaProxies: TestApi;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
let client: RestClient;

beforeAll(async () => {
  base = await startTestApi();
  pgProxy = await new TcpProxy('127.0.0.1', 5432).start();
  redisProxy = await new TcpProxy('127.0.0.1', 6379).start();
  // A second API on the same database and queue, reaching both only through the proxies.
  viaProxies = await startTestApi(
    {
      databaseUrl: base.databaseUrl.replace(':5432/', `:${pgProxy.port}/`),
      redisUrl: `redis://127.0.0.1:${redisProxy.port}`,
      jwtKeys: base.config.jwtKeys,
    },
    { databaseUrl: base.databaseUrl, queuePrefix: base.queuePrefix },
  );
  const op = await base.operator();
  await op.call('PUT', '/v1/zones/az-1', { capacity: 100, agentUrl: 'http://127.0.0.1:1' });
  const tenant = await base.tenant('outage');
  client = new RestClient(viaProxies.api.url).withToken(tenant.client.token!);
});
afterAll(async () => {
  await viaProxies?.api.close();
  await viaProxies?.prisma.$disconnect();
  await pgProxy?.close();
  await redisProxy?.close();
  await base?.close();
});

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = Date.now();
  const r = await fn();
  return [r, Date.now() - t0];
}

async function eventually(fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('did not recover');
}

describe('backing service outages', () => {
  it('PostgreSQL down: 503 problem+json within seconds, then recovers', async () => {
    expect((await client.call('GET', '/v1/instances')).status).toBe(200);
    pgProxy.cut();
    const [r, ms] = await timed(() => client.call('GET', '/v1/instances'));
    expect(r.status).toBe(503);
    expect(r.headers.get('content-type')).toMatch(/problem\+json/);
    expect(r.body.code).toBe('service_unavailable');
    expect(r.headers.get('retry-after')).toBeTruthy();
    expect(ms).toBeLessThan(5000);
    const ready = await fetch(`${viaProxies.api.url}/readyz`);
    expect(ready.status).toBe(503);
    pgProxy.restore();
    await eventually(async () => (await client.call('GET', '/v1/instances')).status === 200);
  });

  it('Redis down: mutations that enqueue answer 503 and leave nothing behind; reads still work', async () => {
    redisProxy.cut();
    const [r, ms] = await timed(() =>
      client.call('POST', '/v1/instances', { name: 'while-redis-down', zones: ['az-1'], brokerCount: 1 }),
    );
    expect(r.status).toBe(503);
    expect(r.body.code).toBe('service_unavailable');
    expect(ms).toBeLessThan(5000);
    expect((await client.call('GET', '/v1/instances')).status).toBe(200);
    expect((await client.call('GET', '/v1/instances?name=while-redis-down')).body.items).toEqual([]);
    redisProxy.restore();
    await eventually(
      async () =>
        (await client.call('POST', '/v1/instances', { name: 'after-redis', zones: ['az-1'], brokerCount: 1 }))
          .status === 202,
    );
  });

  it('brokers down: 502 cluster_unavailable, whose detail names no internal address', async () => {
    const tenant = await base.tenant('brokers-down');
    const created = await tenant.client.call('POST', '/v1/instances', {
      name: 'down',
      zones: ['az-1'],
      brokerCount: 1,
    });
    expect(created.status).toBe(202);
    const id = created.body.instance.id as string;
    // The broker is said to run on an address where nothing listens (it crashed a moment ago).
    await base.prisma.brokerPlacement.updateMany({
      where: { instanceId: id },
      data: { status: 'RUNNING', host: '127.0.0.1', port: 1, ports: { CONTROL: 1, INTERNAL: 1 } },
    });
    const r = await tenant.client.call('GET', `/v1/instances/${id}/topics`);
    expect(r.status).toBe(502);
    expect(r.body.code).toBe('cluster_unavailable');
    expect(r.body.detail).not.toMatch(/127\.0\.0\.1|:1\b|ECONNREFUSED/);
  }, 60_000);
});
