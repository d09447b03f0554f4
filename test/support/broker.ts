import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, resolveBrokerConfig } from '@fjord/broker';
import { pino } from 'pino';
import { makePki, type TestPki } from './certs.js';

/** The users every compat broker knows: PLAIN from the listeners' JAAS configs, SCRAM bootstrapped. */
export const COMPAT_USER = 'compat';
export const COMPAT_PASSWORD = 'compat-secret';

export interface RunningBroker {
  /** The PLAINTEXT listener. */
  readonly bootstrap: string;
  readonly port: number;
  /** Every listener's bootstrap address, by listener name (PLAINTEXT, SASL_PLAINTEXT, SASL_SSL). */
  readonly bootstraps: Readonly<Record<string, string>>;
  /** CA certificate that signed the SASL_SSL listener's certificate. */
  readonly ca: string;
  readonly dataDir: string;
  readonly broker: Broker;
  /** Stops and starts the broker on the same ports and data (clean shutdown). */
  restart(): Promise<RunningBroker>;
  stop(): Promise<void>;
}

let pki: TestPki | undefined;

/**
 * Starts an in-process broker on free loopback ports with its own data dir: a PLAINTEXT
 * listener, and SASL_PLAINTEXT and SASL_SSL listeners (certificate from a test CA made with
 * openssl) that accept PLAIN and SCRAM-SHA-256/512 for COMPAT_USER.
 */
export async function startBroker(
  overrides: Record<string, string> = {},
  dataDir = mkdtempSync(join(tmpdir(), 'fjord-compat-')),
  ports: Readonly<Record<string, number>> = {},
): Promise<RunningBroker> {
  pki ??= makePki();
  const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required user_${COMPAT_USER}="${COMPAT_PASSWORD}";`;
  const port = (l: string) => ports[l] ?? 0;
  const config = resolveBrokerConfig({
    overrides: new Map(
      Object.entries({
        listeners: `PLAINTEXT://127.0.0.1:${port('PLAINTEXT')},SASL_PLAINTEXT://127.0.0.1:${port('SASL_PLAINTEXT')},SASL_SSL://127.0.0.1:${port('SASL_SSL')}`,
        'log.dirs': dataDir,
        'group.initial.rebalance.delay.ms': '0',
        'offsets.topic.num.partitions': '5',
        'transaction.state.log.num.partitions': '5',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': jaas,
        'listener.name.sasl_ssl.plain.sasl.jaas.config': jaas,
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': pki.brokerPem,
        ...overrides,
      }),
    ),
    scramUsers: [
      `SCRAM-SHA-256=[name=${COMPAT_USER},password=${COMPAT_PASSWORD}]`,
      `SCRAM-SHA-512=[name=${COMPAT_USER},password=${COMPAT_PASSWORD}]`,
    ],
  });
  const broker = await Broker.start(config, pino({ level: process.env.FJORD_TEST_LOG ?? 'silent' }));
  const bound = Object.fromEntries(config.listeners.map((l) => [l.name, broker.port(l.name)]));
  const running: RunningBroker = {
    bootstrap: `127.0.0.1:${bound.PLAINTEXT}`,
    port: bound.PLAINTEXT!,
    bootstraps: Object.fromEntries(Object.entries(bound).map(([l, p]) => [l, `127.0.0.1:${p}`])),
    ca: pki.ca,
    dataDir,
    broker,
    async restart() {
      await broker.stop();
      return startBroker(overrides, dataDir, bound);
    },
    async stop() {
      await broker.stop();
    },
  };
  return running;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
