import { ConfigError } from '@fjord/metadata';
import { describe, expect, it } from 'vitest';
import { resolveBrokerConfig } from '../../src/config/BrokerConfig.js';
import { parseProperties } from '../../src/config/PropertiesFile.js';

const STOCK_KAFKA_PROPERTIES = `
# A stock Kafka 2.x server.properties, trimmed
broker.id=0
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
listeners=PLAINTEXT://127.0.0.1:19092
log.dirs=/tmp/a,/tmp/b
num.partitions=3
offsets.topic.replication.factor=1
log.retention.hours=24
log.segment.bytes=1073741824
zookeeper.connect=localhost:2181
group.initial.rebalance.delay.ms=0
`;

describe('server.properties parsing', () => {
  it('handles separators, comments, continuations and escapes like java.util.Properties', () => {
    const p = parseProperties('a=1\n  b : 2\n! comment\n# c=3\nd 4\ne=x\\\n   y\nf=tab\\tend\ng=\\u0041');
    expect(Object.fromEntries(p)).toEqual({ a: '1', b: '2', d: '4', e: 'xy', f: 'tab\tend', g: 'A' });
  });

  it('accepts a stock Kafka file and applies Kafka names', () => {
    const c = resolveBrokerConfig({ propertiesText: STOCK_KAFKA_PROPERTIES });
    expect(c.nodeId).toBe(0);
    expect(c.listeners).toEqual([
      { name: 'PLAINTEXT', host: '127.0.0.1', port: 19092, securityProtocol: 'PLAINTEXT' },
    ]);
    expect(c.logDirs).toEqual(['/tmp/a', '/tmp/b']);
    expect(c.numPartitions).toBe(3);
    expect(c.logRetentionMs).toBe(24 * 3_600_000);
    expect(c.groupInitialRebalanceDelayMs).toBe(0);
    expect(c.unknownKeys).toEqual([]);
    expect(c.ignoredKeys).toContain('zookeeper.connect');
  });

  it('lets overrides win and prefers ms over minutes over hours', () => {
    const c = resolveBrokerConfig({
      propertiesText: 'log.retention.hours=1\nlog.retention.minutes=5',
      overrides: new Map([['num.partitions', '7']]),
    });
    expect(c.logRetentionMs).toBe(300_000);
    expect(c.numPartitions).toBe(7);
    const d = resolveBrokerConfig({ propertiesText: 'log.retention.minutes=5\nlog.retention.ms=42' });
    expect(d.logRetentionMs).toBe(42);
  });

  it('warns about unknown keys without failing', () => {
    expect(resolveBrokerConfig({ propertiesText: 'no.such.key=1' }).unknownKeys).toEqual(['no.such.key']);
  });

  it('refuses invalid values with a message naming the key', () => {
    expect(() => resolveBrokerConfig({ propertiesText: 'num.partitions=zero' })).toThrow(ConfigError);
    expect(() => resolveBrokerConfig({ propertiesText: 'num.partitions=0' })).toThrow(
      /num.partitions.*at least 1/,
    );
    expect(() => resolveBrokerConfig({ propertiesText: 'auto.create.topics.enable=yes' })).toThrow(/boolean/);
    expect(() => resolveBrokerConfig({ propertiesText: 'listeners=127.0.0.1:9092' })).toThrow(
      /NAME:\/\/host:port/,
    );
    expect(() => resolveBrokerConfig({ propertiesText: 'listeners=FOO://h:1' })).toThrow(
      /security.protocol.map/,
    );
    expect(() => resolveBrokerConfig({ propertiesText: 'log.cleanup.policy=keep' })).toThrow(
      /one of delete, compact/,
    );
  });

  it('advertises a routable address when listening on all interfaces', () => {
    const c = resolveBrokerConfig({ propertiesText: 'listeners=PLAINTEXT://0.0.0.0:9092' });
    expect(c.advertisedListeners[0]!.host).toBe('127.0.0.1');
  });

  it('switches to clustered mode with a metadata database: a cluster id is required, two replicas by default', () => {
    const url = 'fjord.metadata.database.url=postgresql://127.0.0.1/fjord';
    expect(() => resolveBrokerConfig({ propertiesText: url })).toThrow(/cluster.id.*required/);
    const c = resolveBrokerConfig({ propertiesText: `${url}\ncluster.id=abc` });
    expect(c.metadataDatabaseUrl).toBe('postgresql://127.0.0.1/fjord');
    expect(c.defaultReplicationFactor).toBe(2);
    expect(
      resolveBrokerConfig({ propertiesText: `${url}\ncluster.id=abc\ndefault.replication.factor=3` })
        .defaultReplicationFactor,
    ).toBe(3);
    expect(resolveBrokerConfig({}).defaultReplicationFactor).toBe(1);
  });

  it('picks the inter-broker listener like Kafka and refuses one that does not exist', () => {
    const two =
      'listeners=INTERNAL://127.0.0.1:1,PUBLIC://127.0.0.1:2\nlistener.security.protocol.map=INTERNAL:PLAINTEXT,PUBLIC:SASL_PLAINTEXT';
    expect(resolveBrokerConfig({ propertiesText: two }).interBrokerListener).toBe('INTERNAL');
    expect(
      resolveBrokerConfig({ propertiesText: `${two}\ninter.broker.listener.name=PUBLIC` })
        .interBrokerListener,
    ).toBe('PUBLIC');
    expect(() => resolveBrokerConfig({ propertiesText: `${two}\ninter.broker.listener.name=NOPE` })).toThrow(
      /NOPE/,
    );
  });
});

describe('log.message.format.version (deprecated, kept for Kafka parity)', () => {
  it("defaults to the emulated release's own format before 3.0 and to 3.0-IV1 from 3.0 on", () => {
    const format = (version: string) =>
      resolveBrokerConfig({ propertiesText: `fjord.kafka.version=${version}` }).values.get(
        'log.message.format.version',
      );
    expect(format('2.4')).toBe('2.4-IV1');
    expect(format('0.11.0')).toBe('0.11.0-IV2');
    expect(format('2.8')).toBe('2.8-IV1');
    expect(format('3.8')).toBe('3.0-IV1');
  });

  it('loads a server.properties that sets it, and refuses what is not a Kafka version', () => {
    const c = resolveBrokerConfig({ propertiesText: 'log.message.format.version=2.1' });
    expect(c.values.get('log.message.format.version')).toBe('2.1');
    expect(c.unknownKeys).toEqual([]);
    expect(() => resolveBrokerConfig({ propertiesText: 'log.message.format.version=banana' })).toThrow(
      ConfigError,
    );
  });
});

describe('message.max.bytes', () => {
  it("defaults to the emulated release's limit: 1000012 before Kafka 2.5, 1048588 from it (KAFKA-4203)", () => {
    const resolved = (text: string) => resolveBrokerConfig({ propertiesText: text });
    const limit = (version: string) => {
      const c = resolved(`fjord.kafka.version=${version}`);
      return [c.values.get('message.max.bytes'), c.messageMaxBytes];
    };
    expect(limit('0.10.2')).toEqual([1_000_012, 1_000_012]);
    expect(limit('2.4.0')).toEqual([1_000_012, 1_000_012]);
    expect(limit('2.5')).toEqual([1_048_588, 1_048_588]);
    expect(limit('3.8')).toEqual([1_048_588, 1_048_588]);
    // What server.properties sets wins whatever the release.
    expect(resolved('fjord.kafka.version=2.4\nmessage.max.bytes=2000000').messageMaxBytes).toBe(2_000_000);
  });
});
