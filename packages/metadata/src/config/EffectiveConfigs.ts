import type { MetadataImage } from '../image/MetadataImage.js';
import { type ConfigKeyDef, type ConfigValue, DESCRIBE_CONFIG_TYPE, formatConfigValue } from './ConfigDef.js';
import { DYNAMIC_BROKER_KEY_DEFS } from './DynamicBrokerConfigDefs.js';
import { INSTANCE_CONFIG_DEFS } from './InstanceConfigDefs.js';
import { listenerConfigDef } from './ListenerConfigDefs.js';
import { REPLICATION_THROTTLE_RATE_DEFS } from './ReplicationThrottleConfigDefs.js';
import { TOPIC_CONFIG_BY_NAME, TOPIC_CONFIG_DEFS, type TopicConfigDef } from './TopicConfigDefs.js';

/** Kafka's DescribeConfigs source ids. */
export const ConfigSource = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

export interface ConfigSynonym {
  readonly name: string;
  readonly value: string | null;
  readonly source: number;
}

export interface ConfigEntry {
  readonly name: string;
  readonly value: string | null;
  readonly source: number;
  readonly sensitive: boolean;
  readonly readOnly: boolean;
  /**
   * The sources that are set for this config, most specific first (KIP-226 synonyms), as
   * Kafka's ConfigHelper lists them: a topic override, then the broker synonyms set
   * dynamically per broker, as cluster default, statically, and the built-in defaults that
   * are not null.
   */
  readonly synonyms: readonly ConfigSynonym[];
  /** Kafka's DescribeConfigs configType id (DESCRIBE_CONFIG_TYPE; 0 when unknown). */
  readonly type: number;
  readonly documentation: string | null;
}

const LONG_MAX_TEXT = '9223372036854775807';

/**
 * Broker configs that carry a secret: DescribeConfigs reports them sensitive with no value, as
 * Kafka does for its PASSWORD-type configs. The metadata database URL holds the instance's
 * PostgreSQL password (ADR 0013).
 */
export const SENSITIVE_BROKER_CONFIGS: ReadonlySet<string> = new Set(['fjord.metadata.database.url']);

/** Values of type long saturate at MAX_SAFE_INTEGER internally; show Kafka's Long.MAX_VALUE. */
function display(value: ConfigValue): string | null {
  if (value === Number.MAX_SAFE_INTEGER) return LONG_MAX_TEXT;
  return formatConfigValue(value);
}

/** Broker keys that are one setting under several names, highest priority first (log.retention.ms, .minutes, .hours). */
const BROKER_SYNONYM_GROUPS: ReadonlyMap<string, readonly string[]> = new Map(
  TOPIC_CONFIG_DEFS.flatMap((d) => {
    if (!d.brokerSynonym) return [];
    const group = [d.brokerSynonym, ...(d.brokerAliases ?? [])];
    return group.map((k) => [k, group] as const);
  }),
);

/**
 * Definitions of the dynamic broker configs, for when the broker's static set lacks one (Fjord's
 * instance limits, replication throttles, Kafka's other reconfigurable keys).
 */
const OWN_BROKER_DEFS: ReadonlyMap<string, ConfigKeyDef> = new Map(
  [
    ...INSTANCE_CONFIG_DEFS,
    ...REPLICATION_THROTTLE_RATE_DEFS,
    ...DYNAMIC_BROKER_KEY_DEFS.map((d) => d.def),
  ].map((d) => [d.name, d]),
);

/**
 * Resolves effective configuration the way Kafka does: a topic override, else a dynamic
 * per-broker value, else a dynamic cluster-wide default, else the static broker value
 * (server.properties), else the built-in default.
 */
export class EffectiveConfigs {
  /**
   * @param staticBroker every static broker value, defaults and derived values included
   * @param explicitStatic the keys server.properties (or overrides) set
   * @param brokerDefs the broker's config definitions: types, and the built-in defaults Kafka
   *   lists as DEFAULT_CONFIG synonyms (only those that are not null)
   * @param listenersReconfigurable report the listener registration keys as not read-only, as
   *   Kafka does before 4.0 (they are in its DynamicListenerConfig; a KRaft broker still refuses
   *   to change them)
   */
  constructor(
    readonly brokerId: number,
    private readonly staticBroker: ReadonlyMap<string, ConfigValue>,
    private readonly explicitStatic: ReadonlySet<string>,
    private readonly brokerDefs: ReadonlyMap<string, ConfigKeyDef> = new Map(),
    private readonly listenersReconfigurable = false,
  ) {}

  topicConfig(image: MetadataImage, topic: string, name: string): string | null {
    const def = TOPIC_CONFIG_BY_NAME.get(name)!;
    const override = image.configsOf('topic', topic).get(def.name);
    return override !== undefined ? override : this.topicDefault(image, def);
  }

  describeTopic(image: MetadataImage, topic: string): ConfigEntry[] {
    return TOPIC_CONFIG_DEFS.map((d) => this.topicEntry(image, topic, d));
  }

  /** The value a topic without an override gets: from its broker synonym, else the topic default. */
  private topicDefault(image: MetadataImage, def: TopicConfigDef): string | null {
    if (!def.brokerSynonym) return display(def.default);
    const key = def.brokerSynonym;
    const dynamic =
      image.configsOf('broker', String(this.brokerId)).get(key) ?? image.configsOf('broker', '').get(key);
    if (dynamic !== undefined) return dynamic;
    const staticValue = this.staticBroker.get(key);
    return display(staticValue !== undefined && staticValue !== null ? staticValue : def.default);
  }

  /** ConfigHelper.createTopicConfigEntry */
  private topicEntry(image: MetadataImage, topic: string, def: TopicConfigDef): ConfigEntry {
    const synonyms: ConfigSynonym[] = [];
    const override = image.configsOf('topic', topic).get(def.name);
    if (override !== undefined)
      synonyms.push({ name: def.name, value: override, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    if (def.brokerSynonym) synonyms.push(...this.brokerSynonyms(image, def.brokerSynonym));
    return {
      name: def.name,
      value: override !== undefined ? override : this.topicDefault(image, def),
      source: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
      sensitive: false,
      readOnly: false,
      synonyms,
      type: DESCRIBE_CONFIG_TYPE[def.type],
      documentation: def.documentation ?? null,
    };
  }

  /**
   * ConfigHelper.configSynonyms: the broker key and its lower-priority names (log.retention.ms,
   * .minutes, .hours) where set, by source — dynamic per broker, dynamic cluster default,
   * static, then built-in defaults that are not null — then everything before the first entry
   * for `key` itself dropped, as Kafka does (so a default set only under log.retention.hours is
   * not listed for log.retention.ms).
   */
  brokerSynonyms(image: MetadataImage, key: string): ConfigSynonym[] {
    const names = BROKER_SYNONYM_GROUPS.get(key) ?? [key];
    const perBroker = image.configsOf('broker', String(this.brokerId));
    const clusterDefault = image.configsOf('broker', '');
    const all: ConfigSynonym[] = [];
    for (const name of names) {
      const value = perBroker.get(name);
      if (value !== undefined) all.push({ name, value, source: ConfigSource.DYNAMIC_BROKER_CONFIG });
    }
    for (const name of names) {
      const value = clusterDefault.get(name);
      if (value !== undefined) all.push({ name, value, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
    }
    for (const name of names) {
      const value = this.staticBroker.get(name);
      if (this.explicitStatic.has(name) && value !== undefined)
        all.push({ name, value: display(value), source: ConfigSource.STATIC_BROKER_CONFIG });
    }
    for (const name of names) {
      const value = this.builtInDefault(name);
      if (value !== null) all.push({ name, value: display(value), source: ConfigSource.DEFAULT_CONFIG });
    }
    const first = all.findIndex((s) => s.name === key);
    return first < 0 ? [] : all.slice(first);
  }

  /** The default a broker key has before any configuration (Kafka's ConfigDef default). */
  private builtInDefault(key: string): ConfigValue {
    const def = this.brokerDefs.get(key) ?? OWN_BROKER_DEFS.get(key);
    if (def) return def.default;
    const topicDef = TOPIC_CONFIG_DEFS.find((d) => d.brokerSynonym === key);
    return topicDef ? topicDef.default : null;
  }

  private brokerType(key: string): number {
    const def = this.brokerDefs.get(key) ?? OWN_BROKER_DEFS.get(key) ?? listenerConfigDef(key)?.def;
    if (def) return DESCRIBE_CONFIG_TYPE[def.type];
    const topicDef = TOPIC_CONFIG_DEFS.find((d) => d.brokerSynonym === key);
    return topicDef ? DESCRIBE_CONFIG_TYPE[topicDef.type] : 0;
  }

  /**
   * DescribeConfigs of the cluster-wide default (BROKER resource ''), as Kafka's ConfigHelper
   * answers it: only the keys set as dynamic cluster defaults, each with its
   * DYNAMIC_DEFAULT_BROKER_CONFIG synonyms alone.
   */
  describeClusterDefaults(image: MetadataImage): ConfigEntry[] {
    return [...image.configsOf('broker', '').entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, raw]) => {
        const sensitive = this.isSensitiveBrokerKey(key);
        const synonyms = this.brokerSynonyms(image, key)
          .filter((c) => c.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG)
          .map((c) => (sensitive ? { ...c, value: null } : c));
        return {
          name: key,
          value: sensitive ? null : raw,
          source: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
          sensitive,
          readOnly: !this.isReconfigurable(key),
          synonyms,
          type: this.brokerType(key),
          documentation: this.brokerDefs.get(key)?.documentation ?? null,
        };
      });
  }

  private isReconfigurable(key: string): boolean {
    return isDynamic(key) || (this.listenersReconfigurable && LISTENER_REGISTRATION_CONFIGS.has(key));
  }

  /** As Kafka's KafkaConfig.maybeSensitive: PASSWORD-type keys, plus the ones that embed a secret. */
  private isSensitiveBrokerKey(key: string): boolean {
    return (
      SENSITIVE_BROKER_CONFIGS.has(key) ||
      this.brokerDefs.get(key)?.type === 'password' ||
      listenerConfigDef(key)?.def.sensitive === true
    );
  }

  /**
   * Every broker config this broker knows, for DescribeConfigs on a BROKER resource: the static
   * keys, and the listener-prefixed dynamic ones set for it (passwords shown as null, as Kafka).
   */
  describeBroker(image: MetadataImage): ConfigEntry[] {
    const listenerKeys = [
      ...image.configsOf('broker', String(this.brokerId)).keys(),
      ...image.configsOf('broker', '').keys(),
    ].filter((k) => !this.staticBroker.has(k) && listenerConfigDef(k) !== undefined);
    return [...new Set([...this.staticBroker.keys(), ...listenerKeys])].sort().map((key) => {
      const sensitive = this.isSensitiveBrokerKey(key);
      const synonyms = this.brokerSynonyms(image, key).map((c) => (sensitive ? { ...c, value: null } : c));
      const dynamic =
        image.configsOf('broker', String(this.brokerId)).get(key) ?? image.configsOf('broker', '').get(key);
      const value = sensitive
        ? null
        : dynamic !== undefined
          ? dynamic
          : display(this.staticBroker.get(key) ?? null);
      return {
        name: key,
        value,
        source: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
        sensitive,
        readOnly: !this.isReconfigurable(key),
        synonyms,
        type: this.brokerType(key),
        documentation: this.brokerDefs.get(key)?.documentation ?? null,
      };
    });
  }
}

/**
 * Broker configs that may be changed at run time (cluster-wide with resource name '' or per
 * broker): the log defaults that topic configs inherit, the managed instance's limits and
 * Kafka's other reconfigurable keys (DynamicBrokerConfigDefs).
 */
export const DYNAMIC_BROKER_CONFIGS: ReadonlySet<string> = new Set([
  // Kafka's DynamicLogConfig, less message.format.version (it is not reconfigurable there either).
  ...TOPIC_CONFIG_DEFS.flatMap((d) =>
    d.brokerSynonym && d.brokerSynonym !== 'log.message.format.version' ? [d.brokerSynonym] : [],
  ),
  ...INSTANCE_CONFIG_DEFS.map((d) => d.name),
  ...REPLICATION_THROTTLE_RATE_DEFS.map((d) => d.name),
  ...DYNAMIC_BROKER_KEY_DEFS.map((d) => d.def.name),
]);
/**
 * The keys that make up a broker's registration (Kafka's DynamicListenerConfig keeps them): Kafka
 * lists them as reconfigurable before 4.0 but refuses to change them under a Raft-based quorum
 * ("Advertised listeners cannot be altered when using a Raft-based metadata quorum."), as Fjord does.
 */
export const LISTENER_REGISTRATION_CONFIGS: ReadonlySet<string> = new Set([
  'advertised.listeners',
  'listeners',
  'listener.security.protocol.map',
]);

function isDynamic(key: string): boolean {
  return DYNAMIC_BROKER_CONFIGS.has(key) || listenerConfigDef(key) !== undefined;
}
