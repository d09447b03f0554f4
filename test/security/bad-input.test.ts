/**
 * Hostile and broken input against SASL and TLS listeners, over real sockets: garbage SASL
 * tokens, oversized usernames and frames, a replayed SCRAM final message, requests before
 * authentication, TLS handshake garbage. Each is refused the way Kafka refuses it (an error
 * response and/or a closed connection), the broker logs why, and keeps serving real clients.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { Broker, resolveBrokerConfig } from '@fjord/broker';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { makePki, type TestPki } from '@fjord/test-support/certs';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticatePlain, logCapture, RawConnection, ScramClient } from './rawSasl.js';

const run = promisify(execFile);
const log = logCapture();
let broker: Broker;
let pki: TestPki;
let dir: string;
let sasl: number;
let ssl: number;
let saslSsl: number;
const METADATA = {
  topics: null,
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
};

beforeAll(async () => {
  pki = makePki();
  dir = mkdtempSync(join(tmpdir(), 'fjord-bad-input-'));
  broker = await Broker.start(
    resolveBrokerConfig({
      overrides: new Map([
        ['listeners', 'SASL_PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0'],
        ['log.dirs', dir],
        ['listener.name.sasl_plaintext.plain.sasl.jaas.config', 'x required user_alice="alice-secret";'],
        ['listener.name.sasl_ssl.plain.sasl.jaas.config', 'x required user_alice="alice-secret";'],
        ['sasl.server.max.receive.size', '65536'],
        ['ssl.keystore.location', pki.brokerPem],
      ]),
      scramUsers: ['SCRAM-SHA-256=[name=alice,password=alice-secret]'],
    }),
    pino({ level: 'info' }, log.stream),
  );
  sasl = broker.port('SASL_PLAINTEXT');
  ssl = broker.port('SSL');
  saslSsl = broker.port('SASL_SSL');
});

afterAll(async () => {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});

/** A real client still works: the broker is up and serving. */
async function stillServes() {
  const { stdout } = await run(
    'kcat',
    [
      '-b',
      `127.0.0.1:${sasl}`,
      '-L',
      '-J',
      '-X',
      'security.protocol=SASL_PLAINTEXT',
      '-X',
      'sasl.mechanisms=SCRAM-SHA-256',
      '-X',
      'sasl.username=alice',
      '-X',
      'sasl.password=alice-secret',
    ],
    { timeout: 20_000 },
  );
  expect(JSON.parse(stdout).brokers).toHaveLength(1);
}

describe('SASL listener under bad input', () => {
  it('garbage SaslAuthenticate tokens: SASL_AUTHENTICATION_FAILED, then the connection is closed', async () => {
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256']) {
      const c = await RawConnection.open(sasl);
      expect(await c.send(ApiKey.SaslHandshake, 1, { mechanism })).toMatchObject({ errorCode: 0 });
      const r = await c.send(ApiKey.SaslAuthenticate, 2, { authBytes: randomBytes(300) });
      expect(r).toMatchObject({ errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED });
      await c.closed;
    }
    expect(log.find('authentication failed').length).toBeGreaterThanOrEqual(2);
    expect(
      log.find('authentication failed').every((l) => typeof l.reason === 'string' && l.reason !== ''),
    ).toBe(true);
  });

  it('garbage raw tokens after SaslHandshake v0: the connection is closed', async () => {
    const c = await RawConnection.open(sasl);
    expect(await c.send(ApiKey.SaslHandshake, 0, { mechanism: 'SCRAM-SHA-256' })).toMatchObject({
      errorCode: 0,
    });
    expect(await c.rawToken(randomBytes(64))).toBe('closed');
  });

  it('garbage where a request header should be: closed, logged', async () => {
    const c = await RawConnection.open(sasl);
    const junk = randomBytes(40);
    junk.writeInt32BE(36, 0);
    c.write(junk);
    await c.closed;
    expect(
      log.find('unparseable request header').length + log.find('SASL: closing connection').length,
    ).toBeGreaterThan(0);
  });

  it('a huge username is refused as an invalid token, not processed', async () => {
    const c = await RawConnection.open(sasl);
    await c.send(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-256' });
    const huge = new ScramClient('SCRAM-SHA-256', 'u'.repeat(60_000), 'x');
    const r = await c.send(ApiKey.SaslAuthenticate, 2, { authBytes: huge.first() });
    expect(r).toMatchObject({
      errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
      errorMessage: 'SASL token too large',
    });
    await c.closed;
  });

  it('a frame over sasl.server.max.receive.size before authentication is refused before it is read', async () => {
    const c = await RawConnection.open(sasl);
    const size = Buffer.alloc(4);
    size.writeInt32BE(10 * 1024 * 1024); // announces 10 MiB; only the size prefix is ever sent
    c.write(size);
    await c.closed;
    const refused = log.find('request size out of range');
    expect(
      refused.some((l) => l.limit === 'sasl.server.max.receive.size' && l.size === 10 * 1024 * 1024),
    ).toBe(true);
  });

  it('a replayed SCRAM client-final message fails: the server nonce is new each time', async () => {
    const first = await RawConnection.open(sasl);
    await first.send(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-256' });
    const client = new ScramClient('SCRAM-SHA-256', 'alice', 'alice-secret');
    const sf = await first.send(ApiKey.SaslAuthenticate, 2, { authBytes: client.first() });
    if (sf === 'closed') throw new Error('closed');
    const final = client.final(sf.authBytes);
    const ok = await first.send(ApiKey.SaslAuthenticate, 2, { authBytes: final });
    expect(ok).toMatchObject({ errorCode: 0 });
    expect(await first.send(ApiKey.Metadata, 12, METADATA)).toMatchObject({ brokers: [expect.anything()] });
    first.close();
    // An eavesdropper replays the same client-first and the captured client-final.
    const replay = await RawConnection.open(sasl);
    await replay.send(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-256' });
    const sf2 = await replay.send(ApiKey.SaslAuthenticate, 2, { authBytes: client.first() });
    if (sf2 === 'closed') throw new Error('closed');
    expect(sf2.authBytes.toString()).not.toBe(sf.authBytes.toString());
    const refused = await replay.send(ApiKey.SaslAuthenticate, 2, { authBytes: final });
    expect(refused).toMatchObject({ errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED });
    await replay.closed;
    expect(log.find('authentication failed').some((l) => l.reason === 'Invalid SCRAM nonce')).toBe(true);
  });

  it('requests before authentication completes are refused by closing the connection', async () => {
    // Before any SASL step, mid-exchange, and a Produce straight away.
    const before = await RawConnection.open(sasl);
    expect(await before.send(ApiKey.Metadata, 12, METADATA)).toBe('closed');
    const mid = await RawConnection.open(sasl);
    await mid.send(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-256' });
    await mid.send(ApiKey.SaslAuthenticate, 2, {
      authBytes: new ScramClient('SCRAM-SHA-256', 'alice', 'x').first(),
    });
    expect(await mid.send(ApiKey.Metadata, 12, METADATA)).toBe('closed');
    const produce = await RawConnection.open(sasl);
    expect(
      await produce.send(ApiKey.Produce, 9, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1000,
        topicData: [],
      }),
    ).toBe('closed');
    expect(
      log.find('SASL: closing connection').filter((l) => l.reason === 'request before SASL authentication')
        .length,
    ).toBeGreaterThanOrEqual(3);
    // ApiVersions is allowed first, as Kafka allows it.
    const versions = await RawConnection.open(sasl);
    expect(
      await versions.send(ApiKey.ApiVersions, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' }),
    ).toMatchObject({ errorCode: 0 });
    expect(await authenticatePlain(versions, 'alice', 'alice-secret')).toMatchObject({ errorCode: 0 });
    versions.close();
  });

  it('an unsupported mechanism gets UNSUPPORTED_SASL_MECHANISM and the list of enabled ones', async () => {
    const c = await RawConnection.open(sasl);
    const r = await c.send(ApiKey.SaslHandshake, 1, { mechanism: 'GSSAPI' });
    expect(r).toMatchObject({
      errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM,
      mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'],
    });
    await c.closed;
    await stillServes();
  });
});

describe('TLS listener under bad input', () => {
  it('handshake garbage and plaintext Kafka requests are refused, logged, and the broker keeps serving', async () => {
    for (const junk of [
      randomBytes(512),
      Buffer.from('\u0000\u0000\u0000\u0020hello, this is not TLS at all....'),
    ]) {
      await new Promise<void>((resolve) => {
        const s = tcpConnect(ssl, '127.0.0.1', () => s.write(junk));
        s.on('error', () => {});
        s.on('close', () => resolve());
      });
    }
    // A client that starts TLS and hangs up mid-handshake.
    await new Promise<void>((resolve) => {
      const s = tlsConnect({ port: ssl, host: '127.0.0.1', ca: pki.ca, servername: 'localhost' });
      s.on('error', () => {});
      s.on('close', () => resolve());
      setTimeout(() => s.destroy(), 5);
    });
    await new Promise((r) => setTimeout(r, 200));
    const failed = log.find('TLS handshake failed');
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed.every((l) => typeof l.reason === 'string' && String(l.reason).length > 0)).toBe(true);
    const { stdout } = await run(
      'kcat',
      [
        '-b',
        `127.0.0.1:${ssl}`,
        '-L',
        '-J',
        '-X',
        'security.protocol=SSL',
        '-X',
        `ssl.ca.location=${pki.ca}`,
      ],
      { timeout: 20_000 },
    );
    expect(JSON.parse(stdout).brokers).toHaveLength(1);
    await stillServes();
  });
});

describe('SASL_SSL listener before authentication, fuzzed', () => {
  /**
   * What a TLS client that has not authenticated may send: random frames under a plausible
   * header (any API key and version, including the two allowed before SASL) or no header at all.
   * Kafka answers ApiVersions and SaslHandshake and closes the connection on anything else.
   */
  const frame = fc.oneof(
    fc
      .record({
        apiKey: fc.oneof(
          fc.constantFrom(ApiKey.ApiVersions, ApiKey.SaslHandshake),
          fc.integer({ min: -1, max: 90 }),
        ),
        apiVersion: fc.integer({ min: -2, max: 20 }),
        correlationId: fc.integer(),
        clientId: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 40 })),
        body: fc.uint8Array({ maxLength: 300 }),
      })
      .map(({ apiKey, apiVersion, correlationId, clientId, body }) => {
        const header = Buffer.alloc(10 + Math.max(clientId, 0));
        header.writeInt16BE(apiKey, 0);
        header.writeInt16BE(apiVersion, 2);
        header.writeInt32BE(correlationId, 4);
        header.writeInt16BE(clientId, 8);
        const payload = Buffer.concat([header, Buffer.from(body)]);
        const size = Buffer.alloc(4);
        size.writeInt32BE(payload.length);
        return {
          bytes: Buffer.concat([size, payload]),
          framed: true,
          answerable: apiKey === ApiKey.ApiVersions || apiKey === ApiKey.SaslHandshake,
        };
      }),
    fc
      .uint8Array({ minLength: 1, maxLength: 300 })
      .map((b) => ({ bytes: Buffer.from(b), framed: false, answerable: true })),
  );

  it('random frames get an answer or a closed connection, never a crash, and the broker keeps serving', {
    timeout: 300_000,
  }, async () => {
    const caPem = readFileSync(pki.ca);
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 4 }), async (frames) => {
        const s = tlsConnect({ port: saslSsl, host: '127.0.0.1', ca: caPem, servername: 'localhost' });
        await new Promise<void>((resolve, reject) => {
          s.once('secureConnect', () => resolve());
          s.once('error', reject);
        });
        s.on('error', () => {});
        // Whichever comes first: a response, or the connection closed.
        const reaction = new Promise<'answered' | 'closed'>((resolve) => {
          s.once('data', () => resolve('answered'));
          s.once('close', () => resolve('closed'));
        });
        for (const f of frames) s.write(f.bytes);
        // A whole first request gets a reaction: one that needs authentication first a closed
        // connection, ApiVersions and SaslHandshake an answer or a close. Bytes without a frame
        // may announce more than was sent, which a broker rightly waits for.
        const first = frames[0]!;
        const deadline = new Promise<'none'>((r) => setTimeout(() => r('none'), first.framed ? 10_000 : 200));
        const outcome = await Promise.race([reaction, deadline]);
        if (first.framed && !first.answerable) expect(outcome).toBe('closed');
        else if (first.framed) expect(outcome).not.toBe('none');
        s.destroy();
      }),
      { numRuns: 60, seed: 20261205 },
    );
    await stillServes();
  });
});
