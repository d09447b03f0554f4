import type { MetadataImage } from '../image/MetadataImage.js';
import type { ConfigKeyDef, ConfigValue } from './ConfigDef.js';

const atLeastZero = (v: ConfigValue) => (typeof v === 'number' && v < 0 ? 'must be at least 0' : undefined);
const aRatio = (v: ConfigValue) =>
  typeof v === 'number' && !(v > 0 && v <= 1) ? 'must be above 0 and at most 1' : undefined;

/**
 * The managed instance's spec as broker configs that change at run time, as Kafka's dynamic
 * broker configs do (IncrementalAlterConfigs on a BROKER resource: '' for every broker, or one
 * broker's id), so a spec change reaches running brokers without a restart.
 */
export const INSTANCE_BANDWIDTH_KEY = 'fjord.instance.bandwidth.bytes.per.second';
export const INSTANCE_PARTITION_LIMIT_KEY = 'fjord.instance.partition.limit';
/** Bytes of partition data one broker may hold (the spec's disk per broker); 0: no budget. */
export const INSTANCE_DISK_BYTES_KEY = 'fjord.instance.disk.bytes';
/** Share of the disk budget past which the broker deletes its oldest segments. */
export const INSTANCE_DISK_HIGH_WATER_RATIO_KEY = 'fjord.instance.disk.high.water.ratio';
export const DEFAULT_DISK_HIGH_WATER_RATIO = 0.9;

export const INSTANCE_CONFIG_DEFS: readonly ConfigKeyDef[] = [
  { name: INSTANCE_BANDWIDTH_KEY, type: 'long', default: null, validate: atLeastZero },
  { name: INSTANCE_PARTITION_LIMIT_KEY, type: 'int', default: 0, validate: atLeastZero },
  { name: INSTANCE_DISK_BYTES_KEY, type: 'long', default: 0, validate: atLeastZero },
  {
    name: INSTANCE_DISK_HIGH_WATER_RATIO_KEY,
    type: 'double',
    default: DEFAULT_DISK_HIGH_WATER_RATIO,
    validate: aRatio,
  },
];

/**
 * The dynamic value of an instance key for `brokerId` (per-broker first, then the cluster-wide
 * default), or undefined when neither is set and the static configuration stands.
 */
export function dynamicInstanceValue(
  image: MetadataImage,
  brokerId: number,
  key: string,
): number | undefined {
  const raw = image.configsOf('broker', String(brokerId)).get(key) ?? image.configsOf('broker', '').get(key);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}
