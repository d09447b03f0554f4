/**
 * The broker's own client authenticating as Kafka's brokers do to each other: the SCRAM client
 * exchange against RFC 7677 and against the broker's server side, the inter-broker settings read
 * from Kafka's keys, and BrokerClient over real sockets to a real broker's SASL_PLAINTEXT and
 * SASL_SSL listeners (trust, hostname verification, refusals and their pacing).
 */
import { ConfigError } from '@fjord/metadata';
import { ApiKey } from '@fjord/protocol';
import {
  COMPAT_PASSWORD,
  COMPAT_USER,
  type RunningBroker,
  removeDir,
  startBroker,
} from '@fjord/test-support/broker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListenerConfig } from '../../src/config/BrokerConfig.js';
import {
  BrokerAuthenticationError,
  BrokerClient,
  BrokerRequestError,
} from '../../src/network/BrokerClient.js';
import { listenerTls } from '../../src/network/TlsContext.js';
import {
  type InterBrokerSecurity,
  interBrokerSecurity,
  parseJaasConfig,
} from '../../src/security/InterBrokerSecurity.js';
import { ScramAuthenticator } from '../../src/security/ScramAuthenticator.js';
import { ScramClientError, ScramClientExchange } from '../../src/security/ScramClient.js';
import { scramCredential } from '../../src/security/ScramCredential.js';

describe('SCRAM client exchange (RFC 5802 / 7677)', () => {
  it('reproduces the RFC 7677 SCRAM-SHA-256 example from the client side, server signature checked', () => {
    const c = new ScramClientExchange('SCRAM-SHA-256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    expect(c.first().toString()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const final = c.final(
      Buffer.from('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'),
    );
    expect(final.toString()).toBe(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    );
    expect(() => c.verify(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='))).not.toThrow();
    expect(() => c.verify(Buffer.from('v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='))).toThrow(
      ScramClientError,
    );
  });

  it('completes against the broker’s ScramAuthenticator with SHA-512, and fails with a wrong password', () => {
    const cred = scramCredential('SCRAM-SHA-512', 's3cret, with = signs', 8192);
    const run = (password: string) => {
      const server = new ScramAuthenticator('SCRAM-SHA-512', (u) => (u === 'b,=x' ? cred : undefined));
      const client = new ScramClientExchange('SCRAM-SHA-512', 'b,=x', password);
      const first = server.step(client.first());
      if (first.kind !== 'challenge') throw new Error(first.kind);
      const last = server.step(client.final(first.token));
      if (last.kind === 'success') client.verify(last.token);
      return last.kind === 'success' ? last.principal : last.kind;
    };
    expect(run('s3cret, with = signs')).toBe('User:b,=x');
    expect(run('wrong')).toBe('failure');
  });

  it('refuses a server nonce that does not extend its own, and a server error', () => {
    const c = new ScramClientExchange('SCRAM-SHA-256', 'u', 'p', 'abc');
    expect(() => c.final(Buffer.from('r=xyzdef,s=AAAA,i=4096'))).toThrow(/nonce/);
    expect(() => c.final(Buffer.from('r=abc,s=AAAA,i=4096'))).toThrow(/nonce/);
    expect(() => c.final(Buffer.from('e=unknown-user'))).toThrow(/unknown-user/);
  });
});

describe('inter-broker settings (Kafka’s keys)', () => {
  const listener: ListenerConfig = {
    name: 'REPLICATION',
    host: '10.0.0.1',
    port: 9093,
    securityProtocol: 'SASL_PLAINTEXT',
  };
  const scramJaas =
    'org.apache.kafka.common.security.scram.ScramLoginModule required username="fjord-broker" password="p\\"w";';
  const sec = (raw: Record<string, string>, l = listener) =>
    interBrokerSecurity(l, new Map(Object.entries(raw)), undefined);
  const problem = (raw: Record<string, string>) => {
    try {
      sec(raw);
      return undefined;
    } catch (e) {
      return e instanceof ConfigError ? e.key : String(e);
    }
  };

  it('reads the mechanism and the listener’s JAAS credentials (or sasl.jaas.config)', () => {
    expect(
      sec({
        'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
        'listener.name.replication.scram-sha-512.sasl.jaas.config': scramJaas,
      }),
    ).toEqual({ sasl: { mechanism: 'SCRAM-SHA-512', username: 'fjord-broker', password: 'p"w' } });
    expect(
      sec({
        'sasl.mechanism.inter.broker.protocol': 'PLAIN',
        'sasl.jaas.config':
          'org.apache.kafka.common.security.plain.PlainLoginModule required username=admin password="a" user_admin="a";',
      }).sasl,
    ).toEqual({ mechanism: 'PLAIN', username: 'admin', password: 'a' });
    expect(sec({}, { ...listener, securityProtocol: 'PLAINTEXT' })).toEqual({ sasl: undefined });
  });

  it('names the key that is missing or wrong', () => {
    expect(problem({})).toBe('sasl.mechanism.inter.broker.protocol'); // Kafka's default GSSAPI
    expect(problem({ 'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-256' })).toBe(
      'listener.name.replication.scram-sha-256.sasl.jaas.config',
    );
    expect(
      problem({
        'sasl.mechanism.inter.broker.protocol': 'PLAIN',
        'listener.name.replication.plain.sasl.jaas.config': scramJaas,
      }),
    ).toBe('listener.name.replication.plain.sasl.jaas.config');
    expect(
      problem({
        'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
        'listener.name.replication.scram-sha-512.sasl.jaas.config':
          'org.apache.kafka.common.security.scram.ScramLoginModule required username="x";',
      }),
    ).toBe('listener.name.replication.scram-sha-512.sasl.jaas.config');
    expect(parseJaasConfig('username="x"')).toMatch(/expected/);
    expect(parseJaasConfig('M required a="1" b=2 junk"')).toMatch(/cannot read/);
  });
});

describe('BrokerClient authenticating to a real broker', () => {
  let broker: RunningBroker;
  const clients: BrokerClient[] = [];
  const metadata = (c: BrokerClient) =>
    c.send(ApiKey.Metadata, 9, {
      topics: [],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
  const client = (host: string, port: number, security: InterBrokerSecurity) => {
    const c = new BrokerClient(() => ({ host, port }), {
      clientId: 'broker-9-fetcher',
      connectTimeoutMs: 10_000,
      requestTimeoutMs: 20_000,
      maxResponseBytes: 1 << 20,
      security,
      authFailureBackoffMs: 60_000,
    });
    clients.push(c);
    return c;
  };
  const scram = (password: string) => ({
    sasl: { mechanism: 'SCRAM-SHA-512' as const, username: COMPAT_USER, password },
  });
  /** TLS client settings as the broker derives them for its SASL_SSL listener. */
  const sslClient = (extra: Record<string, string> = {}) => {
    const raw = new Map([
      ...broker.broker.config.passthrough,
      ['ssl.truststore.location', broker.ca],
      ...Object.entries(extra),
    ]);
    const l: ListenerConfig = { name: 'SASL_SSL', host: '0.0.0.0', port: 0, securityProtocol: 'SASL_SSL' };
    return interBrokerSecurity(
      l,
      new Map([
        ...raw,
        ['sasl.mechanism.inter.broker.protocol', 'PLAIN'],
        [
          'listener.name.sasl_ssl.plain.sasl.jaas.config',
          `org.apache.kafka.common.security.plain.PlainLoginModule required username="${COMPAT_USER}" password="${COMPAT_PASSWORD}";`,
        ],
      ]),
      listenerTls('SASL_SSL', raw),
    );
  };

  beforeAll(async () => {
    // SASL_SSL on every loopback address, so 127.0.0.2 reaches it under a name its certificate lacks.
    broker = await startBroker({
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://0.0.0.0:0',
    });
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await broker?.stop();
    if (broker) removeDir(broker.dataDir);
  });

  it('SCRAM-SHA-512 on SASL_PLAINTEXT: authenticated, then requests flow', async () => {
    const c = client('127.0.0.1', broker.broker.port('SASL_PLAINTEXT'), scram(COMPAT_PASSWORD));
    const md = await metadata(c);
    expect(md.brokers.map((b) => b.nodeId)).toEqual([1]);
    expect((await metadata(c)).brokers).toHaveLength(1); // the same authenticated connection
  });

  it('a refused password is a BrokerAuthenticationError naming mechanism, user and peer, and reconnecting is held off', async () => {
    const port = broker.broker.port('SASL_PLAINTEXT');
    const c = client('127.0.0.1', port, scram('wrong'));
    const first = await metadata(c).catch((e: Error) => e);
    expect(first).toBeInstanceOf(BrokerAuthenticationError);
    expect(first).toBeInstanceOf(BrokerRequestError); // callers retry it as a lost connection
    expect((first as Error).message).toContain(
      `SASL authentication with SCRAM-SHA-512 as ${COMPAT_USER} to broker at 127.0.0.1:${port} failed`,
    );
    // Within the back-off the same refusal comes back without a new attempt.
    expect(await metadata(c).catch((e: Error) => e)).toBe(first);
  });

  it('SASL_SSL with the listener’s truststore; PLAIN over TLS; the advertised host verified unless the algorithm is empty', async () => {
    const port = broker.broker.port('SASL_SSL');
    expect((await metadata(client('localhost', port, sslClient()))).brokers).toHaveLength(1);
    expect((await metadata(client('127.0.0.1', port, sslClient()))).brokers).toHaveLength(1);
    const mismatch = await metadata(client('127.0.0.2', port, sslClient())).catch((e: Error) => e);
    expect(mismatch).toBeInstanceOf(BrokerRequestError);
    expect((mismatch as Error).message).toMatch(/IP: 127\.0\.0\.2 is not in the cert's list/);
    const unchecked = sslClient({ 'listener.name.sasl_ssl.ssl.endpoint.identification.algorithm': '' });
    expect((await metadata(client('127.0.0.2', port, unchecked))).brokers).toHaveLength(1);
    // Without the listener's truststore the test CA is not trusted.
    const trusted = sslClient();
    const untrusted = await metadata(
      client('localhost', port, { ...trusted, tls: { ...trusted.tls, ca: undefined } }),
    ).catch((e: Error) => e);
    expect(untrusted).toBeInstanceOf(BrokerRequestError);
    expect((untrusted as Error).message).toMatch(/certificate/);
  });
});
