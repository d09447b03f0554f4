import { describe, expect, it } from 'vitest';
import {
  AlterConfigOp,
  type ConfigKeyDef,
  ConfigSource,
  type ConfigValue,
  DESCRIBE_CONFIG_TYPE,
  EffectiveConfigs,
  MetadataImage,
  type MetadataRecord,
  planAlterConfigs,
  planCreateTopic,
  replay,
  TOPIC_CONFIG_DEFS,
} from '../src/index.js';

const defaults = { numPartitions: 1, replicationFactor: 1, maxReplicationFactor: 1 };

function imageWith(records: MetadataRecord[]): MetadataImage {
  return replay(
    MetadataImage.EMPTY,
    records.map((record, offset) => ({ offset, record })),
  );
}

const brokerRecord: MetadataRecord = {
  type: 'RegisterBroker',
  brokerId: 1,
  incarnationId: 'i1',
  brokerEpoch: 1,
  endpoints: [],
  rack: null,
  fenced: false,
};

/** A topic `t` with the given overrides, and broker 1's dynamic configs ('' for the cluster default). */
function topicImage(
  overrides: Record<string, string> = {},
  brokerConfigs: [resourceName: string, name: string, value: string][] = [],
): MetadataImage {
  const created = planCreateTopic(
    imageWith([brokerRecord]),
    {
      name: 't',
      numPartitions: 1,
      replicationFactor: 1,
      assignments: [],
      configs: Object.entries(overrides).map(([name, value]) => ({ name, value })),
    },
    defaults,
  );
  if (!created.ok) throw new Error(created.message);
  return imageWith([
    brokerRecord,
    ...created.records,
    ...brokerConfigs.map(
      ([resourceName, name, value]): MetadataRecord => ({
        type: 'Config',
        resourceType: 'broker',
        resourceName,
        name,
        value,
      }),
    ),
  ]);
}

/** The part of Kafka's broker ConfigDef these tests need: null defaults are not listed as synonyms. */
const BROKER_DEFS = new Map<string, ConfigKeyDef>(
  (
    [
      ['log.retention.ms', 'long', null],
      ['log.retention.minutes', 'int', null],
      ['log.retention.hours', 'int', 168],
      ['log.retention.bytes', 'long', -1],
      ['advertised.listeners', 'list', null],
    ] as [string, ConfigKeyDef['type'], ConfigValue][]
  ).map(([name, type, dflt]) => [name, { name, type, default: dflt }]),
);

/** Static values as the broker resolves them: defaults, with log.retention.ms derived from the hours. */
function configs(explicit: Record<string, ConfigValue> = {}): EffectiveConfigs {
  const values = new Map<string, ConfigValue>([
    ['log.retention.hours', 168],
    ['log.retention.minutes', null],
    ['log.retention.bytes', -1],
    ...Object.entries(explicit),
  ]);
  const hours = values.get('log.retention.hours') as number;
  values.set('log.retention.ms', (explicit['log.retention.ms'] as number | undefined) ?? hours * 3_600_000);
  return new EffectiveConfigs(1, values, new Set(Object.keys(explicit)), BROKER_DEFS);
}

const entry = (c: EffectiveConfigs, image: MetadataImage, name: string) =>
  c.describeTopic(image, 't').find((e) => e.name === name)!;

describe('topic DescribeConfigs synonyms, as Kafka ConfigHelper lists them', () => {
  it('lists no synonym for retention.ms when nothing is set at broker level (log.retention.ms has no default)', () => {
    const e = entry(configs(), topicImage(), 'retention.ms');
    expect(e).toMatchObject({ value: '604800000', source: ConfigSource.DEFAULT_CONFIG, synonyms: [] });
  });

  it('lists the built-in broker default when it is not null (retention.bytes)', () => {
    const e = entry(configs(), topicImage(), 'retention.bytes');
    expect(e.synonyms).toEqual([
      { name: 'log.retention.bytes', value: '-1', source: ConfigSource.DEFAULT_CONFIG },
    ]);
    expect(e.source).toBe(ConfigSource.DEFAULT_CONFIG);
  });

  it('orders topic, dynamic broker, dynamic default and static sources, most specific first', () => {
    const image = topicImage({ 'retention.ms': '1000' }, [
      ['1', 'log.retention.ms', '2000'],
      ['', 'log.retention.ms', '3000'],
    ]);
    const e = entry(configs({ 'log.retention.ms': 4000 }), image, 'retention.ms');
    expect(e.value).toBe('1000');
    expect(e.source).toBe(ConfigSource.DYNAMIC_TOPIC_CONFIG);
    expect(e.synonyms).toEqual([
      { name: 'retention.ms', value: '1000', source: ConfigSource.DYNAMIC_TOPIC_CONFIG },
      { name: 'log.retention.ms', value: '2000', source: ConfigSource.DYNAMIC_BROKER_CONFIG },
      { name: 'log.retention.ms', value: '3000', source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG },
      { name: 'log.retention.ms', value: '4000', source: ConfigSource.STATIC_BROKER_CONFIG },
      // log.retention.hours' default follows its first log.retention.ms entry, as in Kafka.
      { name: 'log.retention.hours', value: '168', source: ConfigSource.DEFAULT_CONFIG },
    ]);
  });

  it('drops lower-priority names that come before the first entry for the key itself (Kafka dropWhile)', () => {
    const c = configs({ 'log.retention.hours': 1 });
    const e = entry(c, topicImage(), 'retention.ms');
    expect(e).toMatchObject({ value: '3600000', source: ConfigSource.DEFAULT_CONFIG, synonyms: [] });
    const withDynamic = entry(c, topicImage({}, [['', 'log.retention.ms', '5000']]), 'retention.ms');
    expect(withDynamic.value).toBe('5000');
    expect(withDynamic.synonyms).toEqual([
      { name: 'log.retention.ms', value: '5000', source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG },
      { name: 'log.retention.hours', value: '1', source: ConfigSource.STATIC_BROKER_CONFIG },
      { name: 'log.retention.hours', value: '168', source: ConfigSource.DEFAULT_CONFIG },
    ]);
  });

  it('lists no synonym for topic configs without a broker synonym unless the topic sets them', () => {
    const c = configs();
    expect(entry(c, topicImage(), 'leader.replication.throttled.replicas')).toMatchObject({
      value: '',
      source: ConfigSource.DEFAULT_CONFIG,
      synonyms: [],
      type: DESCRIBE_CONFIG_TYPE.list,
    });
    const set = entry(
      c,
      topicImage({ 'follower.replication.throttled.replicas': '0:1' }),
      'follower.replication.throttled.replicas',
    );
    expect(set).toMatchObject({ value: '0:1', source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
  });
});

describe('topic configs of Kafka 3.x', () => {
  it('describes every key with its type and documentation', () => {
    const described = configs().describeTopic(topicImage(), 't');
    const names = described.map((e) => e.name);
    for (const name of [
      'message.format.version',
      'message.downconversion.enable',
      'message.timestamp.difference.max.ms',
      'message.timestamp.before.max.ms',
      'message.timestamp.after.max.ms',
      'leader.replication.throttled.replicas',
      'follower.replication.throttled.replicas',
      'local.retention.ms',
      'remote.storage.enable',
      'compression.zstd.level',
    ])
      expect(names).toContain(name);
    expect(described.every((e) => e.type !== 0 && e.documentation)).toBe(true);
    const byName = new Map(described.map((e) => [e.name, e]));
    expect(byName.get('message.format.version')).toMatchObject({
      value: '3.0-IV1',
      type: DESCRIBE_CONFIG_TYPE.string,
    });
    expect(byName.get('retention.bytes')!.type).toBe(5); // LONG, as kafka-python expects
    expect(byName.get('cleanup.policy')!.type).toBe(7); // LIST
    expect(byName.get('min.cleanable.dirty.ratio')!.type).toBe(6); // DOUBLE
    expect(byName.get('preallocate')!.type).toBe(1); // BOOLEAN
    expect(byName.get('segment.bytes')!.type).toBe(3); // INT
    expect(TOPIC_CONFIG_DEFS.length).toBe(described.length);
  });

  it('accepts the deprecated message.format.version as Kafka does, and refuses what is not a version', () => {
    const image = topicImage();
    for (const value of ['0.10.0', '0.10.2-IV0', '2.4', '2.4-IV1', '2.8.1', '3.0-IV1']) {
      const plan = planAlterConfigs(
        image,
        'topic',
        't',
        [{ name: 'message.format.version', op: AlterConfigOp.SET, value }],
        true,
      );
      expect(plan.ok, value).toBe(true);
    }
    for (const value of ['banana', '9.9', '']) {
      const plan = planAlterConfigs(
        image,
        'topic',
        't',
        [{ name: 'message.format.version', op: AlterConfigOp.SET, value }],
        true,
      );
      expect(plan.ok ? 'NONE' : plan.error, value).toBe('INVALID_CONFIG');
    }
  });

  it('refuses tiered storage and out-of-range compression levels with INVALID_CONFIG', () => {
    const image = topicImage();
    const alter = (name: string, value: string) => {
      const plan = planAlterConfigs(image, 'topic', 't', [{ name, op: AlterConfigOp.SET, value }], true);
      return plan.ok ? 'NONE' : `${plan.error}: ${plan.message}`;
    };
    expect(alter('remote.storage.enable', 'true')).toMatch(
      /^INVALID_CONFIG: .*Tiered Storage functionality is disabled/,
    );
    expect(alter('remote.storage.enable', 'false')).toBe('NONE');
    expect(alter('compression.gzip.level', '0')).toMatch(/^INVALID_CONFIG/);
    expect(alter('compression.gzip.level', '9')).toBe('NONE');
    expect(alter('compression.zstd.level', '23')).toMatch(/^INVALID_CONFIG/);
    expect(alter('local.retention.ms', '-3')).toMatch(/^INVALID_CONFIG/);
  });

  it('keeps log.message.format.version static, as Kafka DynamicLogConfig does', () => {
    const plan = planAlterConfigs(
      topicImage(),
      'broker',
      '',
      [{ name: 'log.message.format.version', op: AlterConfigOp.SET, value: '2.4' }],
      true,
    );
    expect(plan.ok ? 'NONE' : plan.error).toBe('INVALID_CONFIG');
    const retention = planAlterConfigs(
      topicImage(),
      'broker',
      '',
      [{ name: 'log.message.timestamp.after.max.ms', op: AlterConfigOp.SET, value: '1000' }],
      true,
    );
    expect(retention.ok).toBe(true);
  });
});

describe('broker DescribeConfigs types', () => {
  it('fills configType from the broker definitions', () => {
    const c = configs();
    const values = c.describeBroker(MetadataImage.EMPTY);
    expect(values.find((e) => e.name === 'log.retention.bytes')).toMatchObject({
      type: DESCRIBE_CONFIG_TYPE.long,
      source: ConfigSource.DEFAULT_CONFIG,
      synonyms: [{ name: 'log.retention.bytes', value: '-1', source: ConfigSource.DEFAULT_CONFIG }],
    });
    expect(values.find((e) => e.name === 'log.retention.hours')!.type).toBe(DESCRIBE_CONFIG_TYPE.int);
  });
});

describe('broker DescribeConfigs sources', () => {
  const image = topicImage({}, [
    ['1', 'log.retention.bytes', '100'],
    ['', 'log.retention.bytes', '200'],
    ['', 'log.cleaner.delete.retention.ms', '300'],
  ]);

  it("orders one broker's synonyms dynamic per broker, dynamic default, static, default", () => {
    const e = configs({ 'log.retention.bytes': 400 })
      .describeBroker(image)
      .find((x) => x.name === 'log.retention.bytes')!;
    expect(e).toMatchObject({ value: '100', source: ConfigSource.DYNAMIC_BROKER_CONFIG, readOnly: false });
    expect(e.synonyms.map((s) => [s.value, s.source])).toEqual([
      ['100', ConfigSource.DYNAMIC_BROKER_CONFIG],
      ['200', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
      ['400', ConfigSource.STATIC_BROKER_CONFIG],
      ['-1', ConfigSource.DEFAULT_CONFIG],
    ]);
  });

  it("describes the cluster default ('') as only the keys set there, with their default-level synonyms", () => {
    const entries = configs({ 'log.retention.bytes': 400 }).describeClusterDefaults(image);
    expect(entries.map((e) => [e.name, e.value, e.source])).toEqual([
      ['log.cleaner.delete.retention.ms', '300', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
      ['log.retention.bytes', '200', ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG],
    ]);
    expect(entries[1]!.synonyms).toEqual([
      { name: 'log.retention.bytes', value: '200', source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG },
    ]);
  });
});
