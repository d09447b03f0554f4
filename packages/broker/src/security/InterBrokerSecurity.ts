import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '@fjord/metadata';
import type { ListenerConfig } from '../config/BrokerConfig.js';
import type { ListenerTls } from '../network/TlsContext.js';
import type { ScramMechanism } from './ScramCredential.js';

export type InterBrokerMechanism = 'PLAIN' | ScramMechanism;

/** How this broker authenticates to the others' inter-broker listener. */
export interface InterBrokerSasl {
  readonly mechanism: InterBrokerMechanism;
  readonly username: string;
  readonly password: string;
}

/** What a broker-to-broker connection needs beyond TCP: TLS client settings, SASL credentials. */
export interface InterBrokerSecurity {
  /** TLS client options (trust, client certificate for mTLS, hostname check); absent: no TLS. */
  readonly tls?: ConnectionOptions;
  readonly sasl?: InterBrokerSasl;
}

export const INTER_BROKER_MECHANISM_KEY = 'sasl.mechanism.inter.broker.protocol';
const LOGIN_MODULES: Record<InterBrokerMechanism, string> = {
  PLAIN: 'org.apache.kafka.common.security.plain.PlainLoginModule',
  'SCRAM-SHA-256': 'org.apache.kafka.common.security.scram.ScramLoginModule',
  'SCRAM-SHA-512': 'org.apache.kafka.common.security.scram.ScramLoginModule',
};

/**
 * Reads Kafka's JAAS syntax, `<LoginModule> required key="value" key=value;`, into the module
 * name and its options. Returns a message saying what is wrong when it is not that shape.
 */
export function parseJaasConfig(text: string): { module: string; options: Map<string, string> } | string {
  const m = /^\s*([\w.$]+)\s+(required|requisite|sufficient|optional)\b(.*?);?\s*$/s.exec(text);
  if (!m) return 'expected "<LoginModule> required key=\\"value\\" ...;"';
  const options = new Map<string, string>();
  const rest = m[3]!;
  const re = /\s*([\w.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s";]+))/y;
  let at = 0;
  for (let o = re.exec(rest); o !== null; o = re.exec(rest)) {
    options.set(o[1]!, o[2] !== undefined ? o[2].replace(/\\(.)/g, '$1') : o[3]!);
    at = re.lastIndex;
  }
  if (rest.slice(at).trim() !== '') return `cannot read '${rest.slice(at).trim()}'`;
  return { module: m[1]!, options };
}

/**
 * The inter-broker client's security, as Kafka's brokers derive it from their own config: the
 * inter-broker listener's protocol decides; SASL uses `sasl.mechanism.inter.broker.protocol`
 * (Kafka's default GSSAPI is not supported, so it must be set) with the username and password
 * of `listener.name.<listener>.<mechanism>.sasl.jaas.config` (else `sasl.jaas.config`); TLS
 * trusts the listener's truststore, presents its keystore when the listener asks clients for
 * certificates, and checks the peer's advertised host unless
 * `[listener.name.<listener>.]ssl.endpoint.identification.algorithm` is empty. ConfigError names
 * the key that is missing or wrong.
 */
export function interBrokerSecurity(
  listener: ListenerConfig,
  raw: ReadonlyMap<string, string>,
  tls: ListenerTls | undefined,
): InterBrokerSecurity {
  const prefix = `listener.name.${listener.name.toLowerCase()}.`;
  const protocol = listener.securityProtocol;
  let sasl: InterBrokerSasl | undefined;
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    const mechanism = (raw.get(INTER_BROKER_MECHANISM_KEY) ?? 'GSSAPI').trim();
    if (!(mechanism in LOGIN_MODULES))
      throw new ConfigError(
        INTER_BROKER_MECHANISM_KEY,
        `${mechanism} is not supported between brokers; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (inter-broker listener ${listener.name} is ${protocol})`,
      );
    const listenerKey = `${prefix}${mechanism.toLowerCase()}.sasl.jaas.config`;
    const key = raw.has(listenerKey)
      ? listenerKey
      : raw.has('sasl.jaas.config')
        ? 'sasl.jaas.config'
        : undefined;
    if (key === undefined)
      throw new ConfigError(
        listenerKey,
        `the inter-broker listener ${listener.name} needs this broker's ${mechanism} credentials`,
      );
    const jaas = parseJaasConfig(raw.get(key)!);
    if (typeof jaas === 'string') throw new ConfigError(key, jaas);
    const expected = LOGIN_MODULES[mechanism as InterBrokerMechanism];
    if (jaas.module !== expected)
      throw new ConfigError(key, `${mechanism} needs ${expected}, not ${jaas.module}`);
    const username = jaas.options.get('username');
    const password = jaas.options.get('password');
    if (!username || password === undefined)
      throw new ConfigError(key, 'username and password are needed for the inter-broker client');
    sasl = { mechanism: mechanism as InterBrokerMechanism, username, password };
  }
  if (protocol !== 'SSL' && protocol !== 'SASL_SSL') return { sasl };
  if (!tls)
    throw new ConfigError(`${prefix}ssl.keystore.location`, `listener ${listener.name} has no TLS settings`);
  const algorithm = (
    raw.get(`${prefix}ssl.endpoint.identification.algorithm`) ??
    raw.get('ssl.endpoint.identification.algorithm') ??
    'https'
  ).trim();
  const o = tls.options;
  const options: ConnectionOptions = {
    ca: o.ca,
    minVersion: o.minVersion,
    maxVersion: o.maxVersion,
    rejectUnauthorized: true,
    // Kafka's default (https) checks the certificate against the host the peer advertised.
    ...(algorithm === '' ? { checkServerIdentity: () => undefined } : {}),
    // A listener that asks clients for a certificate gets this broker's own.
    ...(tls.clientAuth !== 'none' ? { key: o.key, cert: o.cert, pfx: o.pfx, passphrase: o.passphrase } : {}),
  };
  return { tls: options, sasl };
}
