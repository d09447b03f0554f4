/**
 * TLS listeners with certificates made by openssl: SSL with server verification, mutual TLS
 * with principals from the client certificate (as DN or through ssl.principal.mapping.rules)
 * that ACLs apply to, `requested` client auth, PKCS12 and inline PEM keystores, several
 * listeners each advertising itself, connection limits; real clients (kcat, kafkajs).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, resolveBrokerConfig } from '@fjord/broker';
import { makePki, type TestPki } from '@fjord/test-support/certs';
import { Kafka, logLevel } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logCapture } from './rawSasl.js';

let pki: TestPki;
const cleanup: (() => Promise<void> | void)[] = [];

beforeAll(() => {
  pki = makePki();
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  rmSync(pki.dir, { recursive: true, force: true });
});

async function start(
  overrides: Record<string, string>,
  log = pino({ level: process.env.FJORD_TEST_LOG ?? 'silent' }),
) {
  const dir = mkdtempSync(join(tmpdir(), 'fjord-tls-'));
  const broker = await Broker.start(
    resolveBrokerConfig({ overrides: new Map(Object.entries({ 'log.dirs': dir, ...overrides })) }),
    log,
  );
  cleanup.push(async () => {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return broker;
}

/** Runs kcat; producing (-P) sends one message. ok: it exited 0 and reported no error. */
function kcat(port: number, args: string[]): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('kcat', ['-b', `127.0.0.1:${port}`, '-m', '8', ...args]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0 && !/ERROR/.test(out), out });
    });
    child.stdin.end(args.includes('-P') ? 'hello over tls\n' : '');
  });
}
const ssl = (extra: string[] = []) => [
  '-X',
  'security.protocol=SSL',
  '-X',
  `ssl.ca.location=${pki.ca}`,
  ...extra,
];
const withCert = (c: { key: string; cert: string }) =>
  ssl(['-X', `ssl.key.location=${c.key}`, '-X', `ssl.certificate.location=${c.cert}`]);

describe('TLS listeners', () => {
  it('serves SSL with a verified server certificate; each listener advertises itself', {
    timeout: 60_000,
  }, async () => {
    const b = await start({
      listeners: 'INTERNAL://127.0.0.1:0,PUBLIC://127.0.0.1:0',
      'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,PUBLIC:SSL',
      'inter.broker.listener.name': 'INTERNAL',
      'listener.name.public.ssl.keystore.type': 'PEM',
      'listener.name.public.ssl.keystore.location': pki.brokerPem,
    });
    const pub = b.port('PUBLIC');
    const internal = b.port('INTERNAL');
    expect((await kcat(pub, ['-P', '-t', 'tls-topic', ...ssl()])).ok).toBe(true);
    const consumed = await kcat(pub, ['-C', '-t', 'tls-topic', '-e', '-q', ...ssl()]);
    expect(consumed.out).toContain('hello over tls');
    const viaPublic = JSON.parse((await kcat(pub, ['-L', '-J', ...ssl()])).out);
    const viaInternal = JSON.parse((await kcat(internal, ['-L', '-J'])).out);
    expect(viaPublic.brokers[0].name).toBe(`127.0.0.1:${pub}`);
    expect(viaInternal.brokers[0].name).toBe(`127.0.0.1:${internal}`);
    // A client that does not trust the CA refuses the broker.
    const untrusting = await kcat(pub, [
      '-L',
      '-X',
      'security.protocol=SSL',
      '-X',
      `ssl.ca.location=${pki.rogue.cert}`,
    ]);
    expect(untrusting.ok).toBe(false);
    expect(untrusting.out).toMatch(/certificate verify failed|SSL handshake failed/i);
  });

  it('mutual TLS: the certificate names the principal, ACLs apply to it, other certificates are refused', {
    timeout: 90_000,
  }, async () => {
    const log = logCapture();
    const alice = pki.client('alice');
    const bob = pki.client('bob');
    const b = await start(
      {
        listeners: 'SSL://127.0.0.1:0',
        'ssl.keystore.location': pki.brokerPem,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': pki.ca,
        'ssl.client.auth': 'required',
        'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer',
        'super.users': 'User:CN=admin,OU=clients,O=Fjord Test,C=NO',
      },
      pino({ level: 'info' }, log.stream),
    );
    const port = b.port();
    const admin = pki.client('admin');
    const kafka = (c: { key: string; cert: string }) =>
      new Kafka({
        brokers: [`127.0.0.1:${port}`],
        clientId: 'mtls',
        logLevel: logLevel.NOTHING,
        retry: { retries: 2, initialRetryTime: 100 },
        ssl: {
          ca: [readFileSync(pki.ca, 'utf8')],
          key: readFileSync(c.key, 'utf8'),
          cert: readFileSync(c.cert, 'utf8'),
        },
      });
    const a = kafka(admin).admin();
    await a.connect();
    await a.createTopics({ topics: [{ topic: 'mtls' }] });
    await a.createAcls({
      acl: [
        {
          principal: 'User:CN=alice,OU=clients,O=Fjord Test,C=NO',
          host: '*',
          resourceType: 2,
          resourceName: 'mtls',
          resourcePatternType: 3,
          operation: 4,
          permissionType: 3,
        },
      ],
    });
    await a.disconnect();
    expect((await kcat(port, ['-P', '-t', 'mtls', ...withCert(alice)])).ok).toBe(true);
    const bobTry = await kcat(port, ['-P', '-t', 'mtls', ...withCert(bob)]);
    expect(bobTry.out).toMatch(/Topic authorization failed/i);
    expect(
      log
        .find('authorization denied')
        .some((l) => l.principal === 'User:CN=bob,OU=clients,O=Fjord Test,C=NO'),
    ).toBe(true);
    // No certificate, or one the CA did not sign: the handshake fails.
    expect((await kcat(port, ['-L', ...ssl()])).ok).toBe(false);
    expect((await kcat(port, ['-L', ...withCert(pki.rogue)])).ok).toBe(false);
    expect(log.find('TLS handshake failed').length).toBeGreaterThanOrEqual(2);
  });

  it('ssl.principal.mapping.rules and requested client auth (no certificate: User:ANONYMOUS)', {
    timeout: 60_000,
  }, async () => {
    const alice = pki.client('alice');
    const b = await start({
      listeners: 'SSL://127.0.0.1:0',
      'ssl.keystore.location': pki.brokerPem,
      'ssl.truststore.location': pki.ca,
      'ssl.client.auth': 'requested',
      'ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),.*$/$1/L,DEFAULT',
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:admin',
      'allow.everyone.if.no.acl.found': 'false',
    });
    const port = b.port();
    // Rights are granted through the broker's own admin path: an ACL per principal, then the clients try.
    const admin = pki.client('admin');
    const acls = new Kafka({
      brokers: [`127.0.0.1:${port}`],
      clientId: 'mapping',
      logLevel: logLevel.NOTHING,
      ssl: {
        ca: [readFileSync(pki.ca, 'utf8')],
        key: readFileSync(admin.key, 'utf8'),
        cert: readFileSync(admin.cert, 'utf8'),
      },
    }).admin();
    await acls.connect();
    await acls.createTopics({ topics: [{ topic: 'mapped' }, { topic: 'anon' }] });
    const write = (principal: string, topic: string) => ({
      principal,
      host: '*',
      resourceType: 2,
      resourceName: topic,
      resourcePatternType: 3,
      operation: 4,
      permissionType: 3,
    });
    await acls.createAcls({ acl: [write('User:alice', 'mapped'), write('User:ANONYMOUS', 'anon')] });
    await acls.disconnect();
    expect((await kcat(port, ['-P', '-t', 'mapped', ...withCert(alice)])).ok).toBe(true);
    expect((await kcat(port, ['-P', '-t', 'anon', ...withCert(alice)])).out).toMatch(/authorization failed/i);
    expect((await kcat(port, ['-P', '-t', 'anon', ...ssl()])).ok).toBe(true);
    expect((await kcat(port, ['-P', '-t', 'mapped', ...ssl()])).out).toMatch(/authorization failed/i);
  });

  it('PKCS12 and inline PEM keystores', { timeout: 60_000 }, async () => {
    const p12 = join(pki.dir, 'broker.p12');
    execFileSync('openssl', [
      'pkcs12',
      '-export',
      '-in',
      pki.brokerCert,
      '-inkey',
      pki.brokerKey,
      '-out',
      p12,
      '-passout',
      'pass:p12-secret',
    ]);
    const b = await start({
      listeners: 'A://127.0.0.1:0,B://127.0.0.1:0',
      'listener.security.protocol.map': 'A:SSL,B:SSL',
      'listener.name.a.ssl.keystore.type': 'PKCS12',
      'listener.name.a.ssl.keystore.location': p12,
      'listener.name.a.ssl.keystore.password': 'p12-secret',
      'listener.name.b.ssl.keystore.type': 'PEM',
      'listener.name.b.ssl.keystore.key': readFileSync(pki.brokerKey, 'utf8'),
      'listener.name.b.ssl.keystore.certificate.chain': readFileSync(pki.brokerCert, 'utf8'),
    });
    expect((await kcat(b.port('A'), ['-L', ...ssl()])).ok).toBe(true);
    expect((await kcat(b.port('B'), ['-L', ...ssl()])).ok).toBe(true);
    // A wrong PKCS12 password stops the broker at startup with the key named.
    await expect(
      start({
        listeners: 'SSL://127.0.0.1:0',
        'ssl.keystore.type': 'PKCS12',
        'ssl.keystore.location': p12,
        'ssl.keystore.password': 'wrong',
      }),
    ).rejects.toThrow(/ssl\.keystore\.location/);
  });

  it('max.connections.per.ip closes connections over the limit, with a logged reason', {
    timeout: 30_000,
  }, async () => {
    const log = logCapture();
    const b = await start(
      { listeners: 'PLAINTEXT://127.0.0.1:0', 'max.connections.per.ip': '2' },
      pino({ level: 'info' }, log.stream),
    );
    const open = () =>
      new Promise<{ closedSoon: boolean; destroy: () => void }>((resolve) => {
        const s = connect(b.port(), '127.0.0.1');
        s.on('error', () => {});
        let closed = false;
        s.on('close', () => {
          closed = true;
        });
        setTimeout(() => resolve({ closedSoon: closed, destroy: () => s.destroy() }), 300);
      });
    const first = await open();
    const second = await open();
    const third = await open();
    expect([first.closedSoon, second.closedSoon, third.closedSoon]).toEqual([false, false, true]);
    expect(log.find('connection refused')[0]).toMatchObject({
      reason: 'Too many connections from 127.0.0.1 (maximum = 2)',
    });
    first.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const fourth = await open();
    expect(fourth.closedSoon).toBe(false);
    second.destroy();
    fourth.destroy();
  });
});
