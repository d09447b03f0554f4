/**
 * `listener.name.<l>.fjord.allowed.cidrs` on a real in-process broker over real sockets: the
 * client's source address is chosen with `localAddress` (all of 127.0.0.0/8 is loopback on
 * Linux), the setting is changed live through a real admin client (@platformatic/kafka's
 * IncrementalAlterConfigs), and refusals are read from /metrics.
 */
import { connect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { ConfigError, MetadataImage, type MetadataRecord, replay } from '@fjord/metadata';
import { ApiKey, decodeResponseFrame, encodeRequestFrame } from '@fjord/protocol';
import { type RunningBroker, removeDir, startBroker } from '@fjord/test-support/broker';
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListenerAllowlists } from '../../src/network/ListenerAllowlists.js';
import { exact, scrape } from '../metrics/promText.js';

/** Retries `attempt` until it passes; the deadline only detects a change that never lands. */
async function eventually<T>(attempt: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const SASL = 'listener.name.sasl_plaintext.fjord.allowed.cidrs';
const SSL = 'listener.name.sasl_ssl.fjord.allowed.cidrs';
const REFUSED = 'kafka_server_socketservermetrics_connection_refused_allowlist_total';

interface Outcome {
  /** Bytes the broker sent before the connection ended. */
  readonly received: Buffer;
  readonly closed: boolean;
}

/** Opens a TCP connection from `from`, writes `bytes`, and collects what comes back until the socket closes or `settleMs` passes with it open. */
function exchange(port: number, from: string, bytes: Buffer, settleMs = 1500): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect({ host: '127.0.0.1', port, localAddress: from });
    let timer: NodeJS.Timeout | undefined;
    s.on('connect', () => {
      s.write(bytes, () => {});
      timer = setTimeout(() => {
        s.destroy();
        resolve({ received: Buffer.concat(chunks), closed: false });
      }, settleMs);
    });
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => {}); // a reset is one way of being refused; 'close' follows
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(chunks), closed: true });
    });
    setTimeout(() => reject(new Error('no outcome')), 60_000).unref();
  });
}

const apiVersionsFrame = () =>
  encodeRequestFrame(ApiKey.ApiVersions, 0, 7, 'allowlist-test', {
    clientSoftwareName: '',
    clientSoftwareVersion: '',
  });

/** An open Kafka connection from `from` that answers ApiVersions, and says when it is closed. */
async function openConnection(port: number, from: string) {
  const s: Socket = connect({ host: '127.0.0.1', port, localAddress: from });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
  s.on('error', () => {});
  let buf = Buffer.alloc(0);
  const waiting: ((frame: Buffer) => void)[] = [];
  s.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
      const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
      buf = buf.subarray(4 + frame.length);
      waiting.shift()?.(frame);
    }
  });
  return {
    closed,
    isOpen: () => !s.destroyed,
    async apiVersions(): Promise<number> {
      const frame = await new Promise<Buffer>((resolve) => {
        waiting.push(resolve);
        s.write(apiVersionsFrame());
      });
      return decodeResponseFrame(ApiKey.ApiVersions, 0, frame).body.errorCode;
    },
    close: () => s.destroy(),
  };
}

/** The ClientHello node's TLS client sends first, captured without a network. */
function clientHello(): Promise<Buffer> {
  return new Promise((resolve) => {
    const sink = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        resolve(Buffer.from(chunk));
        cb();
      },
    });
    const t = tlsConnect({ socket: sink, servername: 'localhost', rejectUnauthorized: false });
    t.on('error', () => {});
    setTimeout(() => t.destroy(), 100).unref();
  });
}

/** IncrementalAlterConfigs on one broker's resource (null deletes the key), as the worker's liveSpec does. */
async function setBrokerConfigs(
  bootstrap: string,
  resourceName: string,
  configs: Record<string, string | null>,
) {
  const admin = new Admin({ clientId: 'allowlist-test', bootstrapBrokers: [bootstrap] });
  try {
    const r = await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: 4,
          resourceName,
          configs: Object.entries(configs).map(([name, value]) =>
            value === null
              ? { name, configOperation: 1 as const }
              : { name, configOperation: 0 as const, value },
          ),
        },
      ],
    });
    return r;
  } catch (e) {
    // The broker's answer (error code and message) is what the assertions read.
    const cause = (e as { errors?: { errors?: Error[] }[] }).errors?.[0]?.errors?.[0];
    throw new Error(
      `IncrementalAlterConfigs failed: ${JSON.stringify(cause, Object.getOwnPropertyNames(cause ?? {}))}`,
    );
  } finally {
    await admin.close();
  }
}

/** The value broker 1's DescribeConfigs reports for `key`. */
async function describedValue(bootstrap: string, key: string): Promise<string | null | undefined> {
  const admin = new Admin({ clientId: 'allowlist-test', bootstrapBrokers: [bootstrap] });
  try {
    const [d] = await admin.describeConfigs({
      resources: [{ resourceType: 4, resourceName: '1', configurationKeys: [key] }],
    });
    return d?.configs.find((c) => c.name === key)?.value;
  } finally {
    await admin.close();
  }
}

describe('ListenerAllowlists: which value is in force', () => {
  const KEY = 'listener.name.public.fjord.allowed.cidrs';
  const image = (configs: [string, string | null][]) =>
    replay(
      MetadataImage.EMPTY,
      configs.map(([resourceName, value], offset) => ({
        offset,
        record: { type: 'Config', resourceType: 'broker', resourceName, name: KEY, value } as MetadataRecord,
      })),
    );

  it('per broker, else the cluster default, else server.properties, else everyone', () => {
    const lists = new ListenerAllowlists(7, ['PUBLIC', 'VPC'], new Map([[KEY, '10.0.0.0/8']]));
    expect(lists.allows('PUBLIC', '10.1.1.1')).toBe(true);
    expect(lists.allows('PUBLIC', '192.168.0.1')).toBe(false);
    expect(lists.allows('VPC', '192.168.0.1')).toBe(true);
    expect(lists.update(image([['', '192.168.0.0/16']]))).toEqual(['PUBLIC']);
    expect(lists.allows('PUBLIC', '192.168.0.1')).toBe(true);
    expect(lists.allows('PUBLIC', '10.1.1.1')).toBe(false);
    expect(
      lists.update(
        image([
          ['', '192.168.0.0/16'],
          ['8', '10.0.0.0/8'],
        ]),
      ),
    ).toEqual([]); // another broker's
    expect(
      lists.update(
        image([
          ['', '192.168.0.0/16'],
          ['7', '172.16.0.0/12'],
        ]),
      ),
    ).toEqual(['PUBLIC']);
    expect(lists.allows('PUBLIC', '::ffff:172.16.9.9')).toBe(true);
    expect(lists.allows('PUBLIC', '192.168.0.1')).toBe(false);
    expect(lists.update(image([]))).toEqual(['PUBLIC']); // all dynamic values gone: the static one
    expect(lists.allows('PUBLIC', '10.1.1.1')).toBe(true);
  });

  it('refuses an invalid static value at startup with ConfigError naming the key', () => {
    expect(() => new ListenerAllowlists(1, ['PUBLIC'], new Map([[KEY, '10.0.0.0/8,nonsense']]))).toThrow(
      new ConfigError(KEY, "'nonsense' is not an IPv4 or IPv6 address or CIDR"),
    );
  });
});

describe('listener CIDR allowlists (fjord.allowed.cidrs)', () => {
  let broker: RunningBroker;
  let saslPort: number;
  let sslPort: number;

  beforeAll(async () => {
    broker = await startBroker({
      [SASL]: '127.0.0.2/32',
      [SSL]: '127.0.0.2/32',
      'fjord.metrics.listen': '127.0.0.1:0',
    });
    saslPort = broker.broker.port('SASL_PLAINTEXT');
    sslPort = broker.broker.port('SASL_SSL');
  }, 120_000);

  afterAll(async () => {
    await broker?.stop();
    if (broker) removeDir(broker.dataDir);
  });

  it('closes a connection from outside the list before reading a byte, and serves one from inside', async () => {
    const refused = await exchange(saslPort, '127.0.0.1', apiVersionsFrame());
    expect(refused).toEqual({ received: Buffer.alloc(0), closed: true });
    const allowed = await openConnection(saslPort, '127.0.0.2');
    expect(await allowed.apiVersions()).toBe(0);
    allowed.close();
    // Listeners without a list take everyone.
    const plain = await openConnection(broker.port, '127.0.0.1');
    expect(await plain.apiVersions()).toBe(0);
    plain.close();
  });

  it('on a SASL_SSL listener, a refused client gets no TLS byte (no ServerHello); an allowed one does', async () => {
    const hello = await clientHello();
    expect(hello[0]).toBe(0x16); // a TLS handshake record
    const refused = await exchange(sslPort, '127.0.0.1', hello);
    expect(refused).toEqual({ received: Buffer.alloc(0), closed: true });
    const allowed = await exchange(sslPort, '127.0.0.2', hello);
    expect(allowed.received[0]).toBe(0x16);
    expect(allowed.received[5]).toBe(0x02); // ServerHello
  });

  it('counts refusals per listener in /metrics', async () => {
    await eventually(async () => {
      const samples = await scrape(broker.broker.metricsPort!);
      expect(exact(samples, REFUSED, { listener: 'SASL_PLAINTEXT' })).toBeGreaterThanOrEqual(1);
      expect(exact(samples, REFUSED, { listener: 'SASL_SSL' })).toBeGreaterThanOrEqual(1);
      expect(exact(samples, REFUSED, { listener: 'PLAINTEXT' })).toBe(0);
    });
  });

  it('follows IncrementalAlterConfigs on the BROKER resource: new list at once, open connections no longer allowed closed', async () => {
    // Per broker: 127.0.0.3 joins.
    await setBrokerConfigs(broker.bootstrap, '1', { [SASL]: '127.0.0.2/32,127.0.0.3/32' });
    const three = await eventually(async () => {
      const c = await openConnection(saslPort, '127.0.0.3');
      expect(await c.apiVersions()).toBe(0);
      return c;
    });
    expect(await describedValue(broker.bootstrap, SASL)).toBe('127.0.0.2/32,127.0.0.3/32');
    const two = await openConnection(saslPort, '127.0.0.2');
    expect(await two.apiVersions()).toBe(0);

    // Without .3: its open connection is closed by the broker, without the client doing anything.
    await setBrokerConfigs(broker.bootstrap, '1', { [SASL]: '127.0.0.2/32,::1/128' });
    await three.closed;
    expect(two.isOpen()).toBe(true);
    expect(await two.apiVersions()).toBe(0);
    expect(await exchange(saslPort, '127.0.0.3', apiVersionsFrame())).toEqual({
      received: Buffer.alloc(0),
      closed: true,
    });
    two.close();

    // Deleting the dynamic value falls back to server.properties (127.0.0.2/32 only).
    await setBrokerConfigs(broker.bootstrap, '1', { [SASL]: '' });
    await eventually(async () => {
      const c = await openConnection(saslPort, '127.0.0.1');
      expect(await c.apiVersions()).toBe(0); // empty: everyone
      c.close();
    });
    await setBrokerConfigs(broker.bootstrap, '1', { [SASL]: null });
    await eventually(async () =>
      expect(await exchange(saslPort, '127.0.0.1', apiVersionsFrame())).toEqual({
        received: Buffer.alloc(0),
        closed: true,
      }),
    );
  });

  it('refuses an invalid range with INVALID_CONFIG naming the key, and keeps the list in force', async () => {
    const err = await setBrokerConfigs(broker.bootstrap, '1', { [SSL]: '127.0.0.0/33' }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain('"apiCode":40'); // INVALID_CONFIG
    expect(err?.message).toContain(SSL);
    const hello = await clientHello();
    expect(await exchange(sslPort, '127.0.0.1', hello)).toEqual({ received: Buffer.alloc(0), closed: true });
  });
});
