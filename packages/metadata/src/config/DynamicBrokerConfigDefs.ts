import { atLeast, ConfigError, type ConfigKeyDef, type ConfigValue } from './ConfigDef.js';

/**
 * Kafka's dynamic broker configs (DynamicBrokerConfig.AllDynamicConfigs) other than the log
 * defaults topics inherit (those come from TopicConfigDefs): what `kafka-configs --alter
 * --entity-type brokers` may change on a running cluster, per broker or as the cluster-wide
 * default, with Kafka's types, defaults and validation.
 *
 * A Fjord broker acts at once on the connection limits and `log.cleaner.backoff.ms` (Broker.ts);
 * the others are kept and described as Kafka keeps them (so tooling and client suites that set
 * them work) but tune machinery a Fjord broker does not have — thread pools of a JVM broker,
 * Kerberos and OAuth logins, metrics reporter classes. `producer.id.expiration.ms` is read at
 * each run of the broker's producer expiration check (`producer.id.expiration.check.interval.ms`).
 */
export interface DynamicBrokerKeyDef {
  readonly def: ConfigKeyDef;
  /** Kafka's PerBrokerConfigs: refused as a cluster-wide default ("broker id must be specified"). */
  readonly perBrokerOnly: boolean;
}

const INT_MAX = 2_147_483_647;
const DOUBLE_MAX = Number.MAX_VALUE;

function entry(def: ConfigKeyDef, opts: { perBrokerOnly?: boolean } = {}): DynamicBrokerKeyDef {
  return { def, perBrokerOnly: opts.perBrokerOnly ?? false };
}

function key(
  name: string,
  type: ConfigKeyDef['type'],
  dflt: ConfigValue,
  documentation: string,
  extra: Partial<ConfigKeyDef> = {},
): ConfigKeyDef {
  return { name, type, default: dflt, documentation, ...extra };
}

/** Kafka's DynamicThreadPool check of a new size: at least 1 (the half/double rule needs the old value). */
const threadCount = atLeast(1);

export const DYNAMIC_BROKER_KEY_DEFS: readonly DynamicBrokerKeyDef[] = [
  // LogCleaner.ReconfigurableConfigs
  entry(
    key('log.cleaner.threads', 'int', 1, 'The number of background threads to use for log cleaning.', {
      validate: atLeast(0),
    }),
  ),
  entry(
    key(
      'log.cleaner.dedupe.buffer.size',
      'long',
      134_217_728,
      'The total memory used for log deduplication across all cleaner threads.',
    ),
  ),
  entry(
    key(
      'log.cleaner.io.buffer.size',
      'int',
      524_288,
      'The total memory used for log cleaner I/O buffers across all cleaner threads.',
      { validate: atLeast(0) },
    ),
  ),
  entry(key('log.cleaner.io.buffer.load.factor', 'double', 0.9, 'Log cleaner dedupe buffer load factor.')),
  entry(
    key(
      'log.cleaner.io.max.bytes.per.second',
      'double',
      DOUBLE_MAX,
      'The log cleaner will be throttled so that the sum of its read and write i/o will be less than this value on average.',
    ),
  ),
  entry(
    key(
      'log.cleaner.backoff.ms',
      'long',
      15_000,
      'The amount of time to sleep when there are no logs to clean.',
      { validate: atLeast(0) },
    ),
  ),
  // DynamicThreadPool.RECONFIGURABLE_CONFIGS
  entry(
    key('num.io.threads', 'int', 8, 'The number of threads that the server uses for processing requests.', {
      validate: threadCount,
    }),
  ),
  entry(
    key(
      'num.replica.fetchers',
      'int',
      1,
      'Number of fetcher threads used to replicate records from each source broker.',
      { validate: threadCount },
    ),
  ),
  entry(
    key(
      'num.recovery.threads.per.data.dir',
      'int',
      2,
      'The number of threads per data directory to be used for log recovery at startup and flushing at shutdown.',
      { validate: threadCount },
    ),
  ),
  entry(
    key(
      'background.threads',
      'int',
      10,
      'The number of threads to use for various background processing tasks.',
      { validate: threadCount },
    ),
  ),
  // MetricConfigs.METRIC_REPORTER_CLASSES_CONFIG
  entry(key('metric.reporters', 'list', [], 'A list of classes to use as metrics reporters.')),
  // SocketServer.ReconfigurableConfigs and the cluster-level listener configs
  entry(
    key(
      'max.connections',
      'int',
      INT_MAX,
      'The maximum number of connections we allow in the broker at any time.',
      { validate: atLeast(0) },
    ),
  ),
  entry(
    key(
      'max.connections.per.ip',
      'int',
      INT_MAX,
      'The maximum number of connections we allow from each ip address.',
      { validate: atLeast(0) },
    ),
  ),
  entry(
    key(
      'max.connections.per.ip.overrides',
      'string',
      '',
      'A comma-separated list of per-ip or hostname overrides to the default maximum number of connections.',
      { validate: validIpOverrides },
    ),
  ),
  entry(
    key(
      'max.connection.creation.rate',
      'int',
      INT_MAX,
      'The maximum connection creation rate we allow in the broker at any time.',
      { validate: atLeast(0) },
    ),
  ),
  entry(
    key(
      'num.network.threads',
      'int',
      3,
      'The number of threads that the server uses for receiving requests from the network and sending responses to the network.',
      { validate: threadCount },
    ),
  ),
  // DynamicProducerStateManagerConfig
  entry(
    key(
      'producer.id.expiration.ms',
      'int',
      86_400_000,
      'The time in ms that a topic partition leader will wait before expiring producer IDs.',
      { validate: atLeast(1) },
    ),
  ),
  entry(
    key(
      'transaction.partition.verification.enable',
      'boolean',
      true,
      'Enable verification that checks that the partition has been added to the transaction before writing transactional records to the partition.',
    ),
  ),
  // DynamicListenerConfig's SASL login settings: per broker, as Kafka has them.
  ...(
    [
      ['sasl.kerberos.service.name', 'string', null, 'The Kerberos principal name that Kafka runs as.'],
      ['sasl.kerberos.kinit.cmd', 'string', '/usr/bin/kinit', 'Kerberos kinit command path.'],
      [
        'sasl.kerberos.ticket.renew.window.factor',
        'double',
        0.8,
        'Login thread will sleep until the specified window factor of time from last refresh to ticket expiry has been reached.',
      ],
      [
        'sasl.kerberos.ticket.renew.jitter',
        'double',
        0.05,
        'Percentage of random jitter added to the renewal time.',
      ],
      [
        'sasl.kerberos.min.time.before.relogin',
        'long',
        60_000,
        'Login thread sleep time between refresh attempts.',
      ],
      [
        'sasl.kerberos.principal.to.local.rules',
        'list',
        ['DEFAULT'],
        'A list of rules for mapping from principal names to short names.',
      ],
      [
        'sasl.login.refresh.window.factor',
        'double',
        0.8,
        'Login refresh thread will sleep until the specified window factor relative to the credential lifetime has been reached.',
      ],
      [
        'sasl.login.refresh.window.jitter',
        'double',
        0.05,
        'The maximum amount of random jitter relative to the credential lifetime that is added to the login refresh thread sleep time.',
      ],
      [
        'sasl.login.refresh.min.period.seconds',
        'int',
        60,
        'The desired minimum time for the login refresh thread to wait before refreshing a credential, in seconds.',
      ],
      [
        'sasl.login.refresh.buffer.seconds',
        'int',
        300,
        'The amount of buffer time before credential expiration to maintain when refreshing a credential, in seconds.',
      ],
    ] as const
  ).map(([name, type, dflt, doc]) =>
    entry(key(name, type, dflt as ConfigValue, doc), { perBrokerOnly: true }),
  ),
];

export const DYNAMIC_BROKER_KEY_BY_NAME: ReadonlyMap<string, DynamicBrokerKeyDef> = new Map(
  DYNAMIC_BROKER_KEY_DEFS.map((d) => [d.def.name, d]),
);

/**
 * Kafka's DynamicSecurityConfigs (SslConfigs.RECONFIGURABLE_CONFIGS): changeable only with a
 * listener prefix, `listener.name.<listener>.<key>`.
 */
export const LISTENER_PREFIX_ONLY_SECURITY_CONFIGS: ReadonlySet<string> = new Set([
  'ssl.keystore.type',
  'ssl.keystore.location',
  'ssl.keystore.password',
  'ssl.key.password',
  'ssl.keystore.key',
  'ssl.keystore.certificate.chain',
  'ssl.truststore.type',
  'ssl.truststore.location',
  'ssl.truststore.password',
  'ssl.truststore.certificates',
]);

/** Parses `max.connections.per.ip.overrides` (`host:count,...`). Throws ConfigError. */
export function parseIpOverrides(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const at = item.lastIndexOf(':');
    const count = Number(item.slice(at + 1));
    if (at <= 0 || !/^\d+$/.test(item.slice(at + 1)) || count > INT_MAX)
      throw new ConfigError('max.connections.per.ip.overrides', `'${item}' is not host:count`);
    out.set(item.slice(0, at), count);
  }
  return out;
}

function validIpOverrides(v: ConfigValue): string | undefined {
  try {
    parseIpOverrides(typeof v === 'string' ? v : '');
    return undefined;
  } catch (e) {
    return e instanceof ConfigError ? e.message : String(e);
  }
}
