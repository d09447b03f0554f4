import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { guardedLookup, parseAllowedNetworks, RefusedTarget } from '@fjord/egress';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from '../src/monitoring/webhookPost.js';

describe('webhook delivery', () => {
  const received: { req: IncomingMessage; body: string }[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      received.push({ req, body });
      res.writeHead(req.url === '/moved' ? 302 : 204, { location: 'http://127.0.0.1:1/' }).end();
    });
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

  const loopback = parseAllowedNetworks('127.0.0.0/8,::1/128');
  const post = (url: string, allowed = loopback) =>
    postWebhook(url, { 'content-type': 'application/json' }, '{"a":1}', { timeoutMs: 10_000, allowed });

  it('never connects to a non-public address that is not allowed', async () => {
    await expect(post(`http://127.0.0.1:${port}/alarms`, [])).rejects.toBeInstanceOf(RefusedTarget);
    await expect(post(`http://localhost:${port}/alarms`, [])).rejects.toBeInstanceOf(RefusedTarget);
    expect(received).toHaveLength(0);
  });

  it('checks what a name resolves to, with the system resolver', async () => {
    const resolve = (allowed: typeof loopback) =>
      new Promise<{ err: Error | null; address: unknown }>((r) =>
        guardedLookup(allowed)('localhost', { all: true }, (err, address) => r({ err, address })),
      );
    const refused = await resolve([]);
    expect(refused.err).toBeInstanceOf(RefusedTarget);
    expect(refused.err?.message).toMatch(
      /^localhost resolves to (127\.0\.0\.1|::1), not a public address \(loopback\)$/,
    );
    const allowed = await resolve(loopback);
    expect(allowed.err).toBeNull();
    expect(allowed.address).toEqual(
      expect.arrayContaining([expect.objectContaining({ address: expect.any(String) })]),
    );
  });

  it('posts the body to an allowed address and answers its status, without following redirects', async () => {
    expect(await post(`http://localhost:${port}/alarms`)).toBe(204);
    expect(received).toHaveLength(1);
    expect(received[0]!.req.method).toBe('POST');
    expect(received[0]!.req.headers['content-type']).toBe('application/json');
    expect(received[0]!.body).toBe('{"a":1}');
    expect(await post(`http://127.0.0.1:${port}/moved`)).toBe(302);
    expect(received.map((r) => r.req.url)).toEqual(['/alarms', '/moved']);
  });
});
