import { ConfigError, parseConfigValue } from '../config/ConfigDef.js';
import {
  DYNAMIC_BROKER_KEY_BY_NAME,
  LISTENER_PREFIX_ONLY_SECURITY_CONFIGS,
} from '../config/DynamicBrokerConfigDefs.js';
import { DYNAMIC_BROKER_CONFIGS } from '../config/EffectiveConfigs.js';
import { INSTANCE_CONFIG_DEFS } from '../config/InstanceConfigDefs.js';
import { listenerConfigDef } from '../config/ListenerConfigDefs.js';
import { REPLICATION_THROTTLE_RATE_DEFS } from '../config/ReplicationThrottleConfigDefs.js';
import { TOPIC_CONFIG_BY_NAME, TOPIC_CONFIG_DEFS } from '../config/TopicConfigDefs.js';
import type { MetadataImage } from '../image/MetadataImage.js';
import type { ConfigResourceType, MetadataRecord } from '../records.js';
import type { Plan } from './TopicPlanner.js';

/** IncrementalAlterConfigs operation types, with Kafka's numbering. */
export const AlterConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;
export type AlterConfigOpType = (typeof AlterConfigOp)[keyof typeof AlterConfigOp];

export interface ConfigAlteration {
  readonly name: string;
  readonly op: AlterConfigOpType;
  readonly value: string | null;
}

/**
 * Plans AlterConfigs (`incremental=false`: the given set replaces all overrides) or
 * IncrementalAlterConfigs (per-key operations) for one resource.
 *
 * On a BROKER resource, `isStaticBrokerKey` names the broker's read-only configs: those are
 * refused ("Cannot update these configs dynamically"). A name that is no broker config at all is
 * kept as given and has no effect, as Kafka's DynamicBrokerConfig.validateConfigs lets it through
 * (only KafkaConfig's non-dynamic names are refused); admin clients' suites rely on that.
 */
export function planAlterConfigs(
  image: MetadataImage,
  resourceType: ConfigResourceType,
  resourceName: string,
  alterations: readonly ConfigAlteration[],
  incremental: boolean,
  /** Without it every unknown broker key counts as read-only and is refused. */
  isStaticBrokerKey: (name: string) => boolean = () => true,
): Plan {
  if (resourceType === 'topic' && !image.topic(resourceName))
    return {
      ok: false,
      error: 'UNKNOWN_TOPIC_OR_PARTITION',
      message: `Topic ${resourceName} does not exist.`,
    };
  if (resourceType === 'broker' && resourceName !== '' && !image.brokers.has(Number(resourceName)))
    return { ok: false, error: 'INVALID_REQUEST', message: `Unknown broker ${resourceName}.` };

  const seen = new Set<string>();
  for (const a of alterations) {
    if (seen.has(a.name))
      return {
        ok: false,
        error: 'INVALID_REQUEST',
        message: `Error due to duplicate config keys: ${a.name}`,
      };
    seen.add(a.name);
  }

  const current = image.configsOf(resourceType, resourceName);
  const next = new Map(incremental ? current : []);
  for (const a of alterations) {
    const def = resourceType === 'topic' ? TOPIC_CONFIG_BY_NAME.get(a.name) : brokerDef(a.name);
    if (resourceType === 'broker' && LISTENER_PREFIX_ONLY_SECURITY_CONFIGS.has(a.name))
      return {
        ok: false,
        error: 'INVALID_CONFIG',
        message: `These security configs can be dynamically updated only per-listener using the listener prefix: ${a.name}`,
      };
    if (
      resourceType === 'broker' &&
      resourceName === '' &&
      (listenerConfigDef(a.name)?.perBrokerOnly || DYNAMIC_BROKER_KEY_BY_NAME.get(a.name)?.perBrokerOnly)
    )
      return {
        ok: false,
        error: 'INVALID_REQUEST',
        message: `Cannot update these configs at default cluster level, broker id must be specified: ${a.name}`,
      };
    if (!def && (resourceType === 'topic' || isStaticBrokerKey(a.name)))
      return {
        ok: false,
        error: 'INVALID_CONFIG',
        message:
          resourceType === 'topic'
            ? `Unknown topic config name: ${a.name}`
            : `Cannot update these configs dynamically: ${a.name}`,
      };
    const op = incremental ? a.op : AlterConfigOp.SET;
    if (!def) {
      // Not a broker config: stored as given (Kafka keeps it too), acted on by nothing.
      if (op === AlterConfigOp.DELETE) next.delete(a.name);
      else if (a.value === null) {
        if (incremental)
          return { ok: false, error: 'INVALID_REQUEST', message: `Null value not supported for : ${a.name}` };
      } else if (op === AlterConfigOp.SET) next.set(a.name, a.value);
      else
        return {
          ok: false,
          error: 'INVALID_CONFIG',
          message: `Config value append is not allowed for config key: ${a.name}`,
        };
      continue;
    }
    if (op === AlterConfigOp.DELETE) {
      next.delete(a.name);
      continue;
    }
    if (a.value === null) {
      if (!incremental) continue;
      return { ok: false, error: 'INVALID_REQUEST', message: `Null value not supported for : ${a.name}` };
    }
    let value = a.value;
    if (op === AlterConfigOp.APPEND || op === AlterConfigOp.SUBTRACT) {
      if (def.type !== 'list')
        return {
          ok: false,
          error: 'INVALID_CONFIG',
          message: `Config value append is not allowed for config key: ${a.name}`,
        };
      const base = (next.get(a.name) ?? (def.default as string[]).join(','))
        .split(',')
        .filter((s) => s !== '');
      const items = value.split(',').map((s) => s.trim());
      value = (
        op === AlterConfigOp.APPEND
          ? [...base, ...items.filter((i) => !base.includes(i))]
          : base.filter((b) => !items.includes(b))
      ).join(',');
    }
    try {
      parseConfigValue(def, value);
    } catch (e) {
      return {
        ok: false,
        error: 'INVALID_CONFIG',
        message: e instanceof ConfigError ? e.message : String(e),
      };
    }
    next.set(a.name, value);
  }

  const records: MetadataRecord[] = [];
  for (const [name, value] of next) {
    if (current.get(name) !== value)
      records.push({ type: 'Config', resourceType, resourceName, name, value });
  }
  for (const name of current.keys()) {
    if (!next.has(name)) records.push({ type: 'Config', resourceType, resourceName, name, value: null });
  }
  return { ok: true, records };
}

function brokerDef(name: string) {
  const listenerDef = listenerConfigDef(name);
  if (listenerDef) return listenerDef.def;
  if (!DYNAMIC_BROKER_CONFIGS.has(name)) return undefined;
  const kafkaDef = DYNAMIC_BROKER_KEY_BY_NAME.get(name);
  if (kafkaDef) return kafkaDef.def;
  const ownDef = [...INSTANCE_CONFIG_DEFS, ...REPLICATION_THROTTLE_RATE_DEFS].find((d) => d.name === name);
  if (ownDef) return ownDef;
  const topicDef = TOPIC_CONFIG_DEFS.find((d) => d.brokerSynonym === name)!;
  return { ...topicDef, name };
}
