/**
 * Listener keystores reloaded without a restart, as Kafka's dynamic SSL configs: a real broker's
 * SASL_SSL listener gets a new keystore through IncrementalAlterConfigs on its BROKER resource
 * (@platformatic/kafka, which sends it to that broker); a TLS client connected before keeps its
 * connection and keeps working, a new one is served the new certificate; a keystore that cannot
 * be used is refused with INVALID_CONFIG naming the key and the context in force stays.
 * Paths relative to the broker's working directory work at startup and on reload.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { ApiKey, decodeResponseFrame, encodeRequestFrame } from '@fjord/protocol';
import { type RunningBroker, removeDir, startBroker } from '@fjord/test-support/broker';
import { makePki, type TestPki } from '@fjord/test-support/certs';
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const KEY = 'listener.name.sasl_ssl.ssl.keystore.location';

/** A TLS connection to the listener that answers ApiVersions (allowed before SASL). */
async function tlsKafka(port: number, ca: string) {
  const socket: TLSSocket = tlsConnect({
    host: '127.0.0.1',
    port,
    ca: readFileSync(ca),
    // The certificates differ in name; what the test compares is which one is served.
    checkServerIdentity: () => undefined,
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  let buf = Buffer.alloc(0);
  const waiting: ((frame: Buffer) => void)[] = [];
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
      const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
      buf = buf.subarray(4 + frame.length);
      waiting.shift()?.(frame);
    }
  });
  let correlation = 0;
  return {
    fingerprint: socket.getPeerX509Certificate()!.fingerprint256,
    open: () => !socket.destroyed,
    async apiVersions(): Promise<number> {
      const frame = await new Promise<Buffer>((resolve) => {
        waiting.push(resolve);
        socket.write(
          encodeRequestFrame(ApiKey.ApiVersions, 0, ++correlation, 'tls-reload-test', {
            clientSoftwareName: '',
            clientSoftwareVersion: '',
          }),
        );
      });
      return decodeResponseFrame(ApiKey.ApiVersions, 0, frame).body.errorCode;
    },
    close: () => socket.destroy(),
  };
}

async function alterBroker1(
  bootstrap: string,
  configs: Record<string, string | null>,
): Promise<string | undefined> {
  const admin = new Admin({ clientId: 'tls-reload-test', bootstrapBrokers: [bootstrap] });
  try {
    await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: 4,
          resourceName: '1',
          // null: delete the dynamic value
          configs: Object.entries(configs).map(([name, value]) =>
            value === null
              ? { name, configOperation: 1 as const }
              : { name, configOperation: 0 as const, value },
          ),
        },
      ],
    });
    return undefined;
  } catch (e) {
    const cause = (e as { errors?: { errors?: { apiCode?: number; message: string }[] }[] }).errors?.[0]
      ?.errors?.[0];
    return JSON.stringify(cause, Object.getOwnPropertyNames(cause ?? {}));
  } finally {
    await admin.close();
  }
}

describe('TLS keystore reload without restart', () => {
  let pki: TestPki;
  let broker: RunningBroker;
  let certB: { cert: string; pem: string };
  const fingerprintOf = (certFile: string) => new X509Certificate(readFileSync(certFile)).fingerprint256;

  beforeAll(async () => {
    pki = makePki();
    certB = pki.client('broker-b', '/O=Fjord Test/CN=localhost');
    // Started with a path relative to the working directory, as the zone agent writes tls/<name>.pem.
    broker = await startBroker({ [KEY]: relative(process.cwd(), pki.brokerPem) });
  }, 120_000);

  afterAll(async () => {
    await broker?.stop();
    if (broker) removeDir(broker.dataDir);
  });

  it('new connections get the new certificate; one open before stays up and keeps working', async () => {
    const port = broker.broker.port('SASL_SSL');
    const before = await tlsKafka(port, pki.ca);
    expect(before.fingerprint).toBe(fingerprintOf(pki.brokerCert));
    expect(await before.apiVersions()).toBe(0);

    expect(
      await alterBroker1(broker.bootstrap, { [KEY]: relative(process.cwd(), certB.pem) }),
    ).toBeUndefined();
    const after = await tlsKafka(port, pki.ca);
    expect(after.fingerprint).toBe(fingerprintOf(certB.cert));
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(before.open()).toBe(true);
    expect(await before.apiVersions()).toBe(0);
    before.close();
    after.close();
  });

  it('refuses a keystore that cannot be used with INVALID_CONFIG naming the key, and keeps the one in force', async () => {
    const port = broker.broker.port('SASL_SSL');
    const missing = await alterBroker1(broker.bootstrap, { [KEY]: 'tls/no-such-keystore.pem' });
    expect(missing).toContain('"apiCode":40');
    expect(missing).toContain(KEY);
    const notAKey = await alterBroker1(broker.bootstrap, { [KEY]: pki.ca }); // a certificate without its key
    expect(notAKey).toContain('"apiCode":40');
    const c = await tlsKafka(port, pki.ca);
    expect(c.fingerprint).toBe(fingerprintOf(certB.cert));
    c.close();
  });

  it('removing TLS settings of a listener without TLS is accepted (nothing to check)', async () => {
    expect(
      await alterBroker1(broker.bootstrap, { 'listener.name.plaintext.ssl.keystore.location': null }),
    ).toBeUndefined();
    expect(
      await alterBroker1(broker.bootstrap, { 'listener.name.plaintext.ssl.keystore.location': 'tls/x.pem' }),
    ).toContain('does not use TLS');
  });

  it('keeps serving the dynamic keystore after a restart (it is in the metadata log, server.properties is not)', {
    timeout: 120_000,
  }, async () => {
    broker = await broker.restart();
    const c = await tlsKafka(broker.broker.port('SASL_SSL'), pki.ca);
    expect(c.fingerprint).toBe(fingerprintOf(certB.cert));
    c.close();
  });
});
