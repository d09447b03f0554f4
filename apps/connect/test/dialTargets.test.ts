import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAllowedNetworks, RefusedTarget } from '@fjord/egress';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDialTargets, guardedAgents } from '../src/dialTargets.js';

describe("a connector's own endpoints as its task starts", () => {
  it('fails on a refused host with the field in the reason; names that do not resolve are left to the client', async () => {
    const pgConfig = (host: string) => ({ connection: { host, port: 5432, database: 'd', user: 'u' } });
    await expect(checkDialTargets('postgres-sink', pgConfig('127.0.0.1'), [])).rejects.toThrow(
      new RefusedTarget('config.connection.host: 127.0.0.1 is not a public address (loopback)'),
    );
    await expect(
      checkDialTargets('postgres-sink', pgConfig('127.0.0.1'), parseAllowedNetworks('127.0.0.0/8')),
    ).resolves.toBeUndefined();
    const mirror = { source: { bootstrapServers: ['10.0.0.1:9092', 'localhost:9092'] } };
    await expect(checkDialTargets('mirror', mirror, parseAllowedNetworks('10.0.0.0/8'))).rejects.toThrow(
      /^config\.source\.bootstrapServers\.1: localhost resolves to (127\.0\.0\.1|::1), not a public address/,
    );
    // An IPv6 literal in a bootstrap server is bracketed; it is judged as the address it is.
    await expect(
      checkDialTargets('mirror', { source: { bootstrapServers: ['[::1]:9092'] } }, []),
    ).rejects.toThrow(
      new RefusedTarget('config.source.bootstrapServers.0: ::1 is not a public address (loopback)'),
    );
    await expect(
      checkDialTargets('postgres-sink', pgConfig('no-such-host.invalid'), []),
    ).resolves.toBeUndefined();
    // An S3 sink without an endpoint goes to AWS: nothing of the tenant's to judge before the request.
    await expect(checkDialTargets('s3-sink', {}, [])).resolves.toBeUndefined();
  });
});

describe('the S3 client’s agents', () => {
  let hits = 0;
  const server = createServer((_, res) => {
    hits++;
    res.end('ok');
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const fetchVia = (allowed: string) =>
    new Promise<number>((resolve, reject) => {
      const { httpAgent } = guardedAgents(parseAllowedNetworks(allowed));
      get({ host: 'localhost', port, agent: httpAgent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }).on('error', reject);
    });

  it('connect to a name only when every address it resolves to is allowed', async () => {
    await expect(fetchVia('')).rejects.toBeInstanceOf(RefusedTarget);
    expect(hits).toBe(0);
    expect(await fetchVia('127.0.0.0/8,::1/128')).toBe(200);
    expect(hits).toBe(1);
  });
});
