import type { MetadataImage } from '../image/MetadataImage.js';
import { type ConfigValue, formatConfigValue } from './ConfigDef.js';
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

export interface ConfigEntry {
  readonly name: string;
  readonly value: string | null;
  readonly source: number;
  readonly sensitive: boolean;
  readonly readOnly: boolean;
  /** Lower-precedence values that this one hides, most specific first (KIP-226 synonyms). */
  readonly synonyms: readonly { name: string; value: string | null; source: number }[];
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

/**
 * Resolves effective configuration the way Kafka does: a topic override, else a dynamic
 * per-broker value, else a dynamic cluster-wide default, else the static broker value
 * (server.properties), else the built-in default.
 */
export class EffectiveConfigs {
  constructor(
    readonly brokerId: number,
    private readonly staticBroker: ReadonlyMap<string, ConfigValue>,
    private readonly explicitStatic: ReadonlySet<string>,
  ) {}

  topicConfig(image: MetadataImage, topic: string, name: string): string | null {
    return this.topicEntry(image, topic, TOPIC_CONFIG_BY_NAME.get(name)!).value;
  }

  describeTopic(image: MetadataImage, topic: string): ConfigEntry[] {
    return TOPIC_CONFIG_DEFS.map((d) => this.topicEntry(image, topic, d));
  }

  private topicEntry(image: MetadataImage, topic: string, def: TopicConfigDef): ConfigEntry {
    const chain: { name: string; value: string | null; source: number }[] = [];
    const override = image.configsOf('topic', topic).get(def.name);
    if (override !== undefined)
      chain.push({ name: def.name, value: override, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    if (def.brokerSynonym) chain.push(...this.brokerChain(image, def.brokerSynonym, def.default));
    else chain.push({ name: def.name, value: display(def.default), source: ConfigSource.DEFAULT_CONFIG });
    const top = chain[0]!;
    return {
      name: def.name,
      value: top.value,
      source: top.source,
      sensitive: false,
      readOnly: false,
      synonyms: chain,
    };
  }

  /** The broker-level chain for `key`: dynamic per broker, dynamic default, static, default. */
  brokerChain(
    image: MetadataImage,
    key: string,
    fallback: ConfigValue,
  ): { name: string; value: string | null; source: number }[] {
    const chain: { name: string; value: string | null; source: number }[] = [];
    const perBroker = image.configsOf('broker', String(this.brokerId)).get(key);
    if (perBroker !== undefined)
      chain.push({ name: key, value: perBroker, source: ConfigSource.DYNAMIC_BROKER_CONFIG });
    const clusterDefault = image.configsOf('broker', '').get(key);
    if (clusterDefault !== undefined)
      chain.push({ name: key, value: clusterDefault, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
    const staticValue = this.staticBroker.get(key);
    if (this.explicitStatic.has(key) && staticValue !== undefined)
      chain.push({ name: key, value: display(staticValue), source: ConfigSource.STATIC_BROKER_CONFIG });
    chain.push({
      name: key,
      value: display(staticValue !== undefined && staticValue !== null ? staticValue : fallback),
      source: ConfigSource.DEFAULT_CONFIG,
    });
    return chain;
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
      const sensitive = SENSITIVE_BROKER_CONFIGS.has(key) || listenerConfigDef(key)?.def.sensitive === true;
      const chain = this.brokerChain(image, key, null).map((c) => (sensitive ? { ...c, value: null } : c));
      return {
        name: key,
        value: chain[0]!.value,
        source: chain[0]!.source,
        sensitive,
        readOnly: !isDynamic(key),
        synonyms: chain,
      };
    });
  }
}

/**
 * Broker configs that may be changed at run time (cluster-wide with resource name '' or per
 * broker): the log defaults that topic configs inherit, and the managed instance's limits.
 */
export const DYNAMIC_BROKER_CONFIGS: ReadonlySet<string> = new Set([
  ...TOPIC_CONFIG_DEFS.flatMap((d) => (d.brokerSynonym ? [d.brokerSynonym] : [])),
  ...INSTANCE_CONFIG_DEFS.map((d) => d.name),
  ...REPLICATION_THROTTLE_RATE_DEFS.map((d) => d.name),
]);
function isDynamic(key: string): boolean {
  return DYNAMIC_BROKER_CONFIGS.has(key) || listenerConfigDef(key) !== undefined;
}
