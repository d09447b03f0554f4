import { DISK_HIGH_WATER_RATIO, diskBytesOf } from '@fjord/contracts';
import type { BrokerPlacement, Instance } from '@fjord/db';
import {
  INSTANCE_BANDWIDTH_KEY,
  INSTANCE_DISK_BYTES_KEY,
  INSTANCE_DISK_HIGH_WATER_RATIO_KEY,
  INSTANCE_PARTITION_LIMIT_KEY,
} from '@fjord/metadata';
import { brokerConfigAdminOf, type FlowContext, until } from '../context.js';

/**
 * The spec settings brokers take at run time, as their dynamic broker configs; the broker spec
 * puts the same in server.properties for brokers started later.
 */
export function liveSpecConfigs(
  ins: Pick<Instance, 'bandwidthMBps' | 'partitionLimit' | 'diskGiB'>,
): Record<string, string> {
  return {
    // The bandwidth the customer bought: produce in and fetch out each held to it, instance-wide.
    [INSTANCE_BANDWIDTH_KEY]: String(ins.bandwidthMBps * 1_000_000),
    // The partition limit holds for every client, not only REST (the controller refuses past it).
    [INSTANCE_PARTITION_LIMIT_KEY]: String(ins.partitionLimit),
    // The disk per broker: past the high-water share the oldest segments go, at all of it produce waits.
    [INSTANCE_DISK_BYTES_KEY]: String(diskBytesOf(ins.diskGiB)),
    [INSTANCE_DISK_HIGH_WATER_RATIO_KEY]: String(DISK_HIGH_WATER_RATIO),
  };
}

/**
 * Applies the instance's bandwidth, partition limit and disk to its running brokers without a restart
 * (IncrementalAlterConfigs on each broker's resource, as Kafka's dynamic broker configs), and
 * returns only when every broker reports the new values itself. Brokers started later get them
 * from their server.properties (the broker spec carries the same spec).
 */
export async function applyLiveSpec(
  ctx: FlowContext,
  ins: Instance,
  brokers: readonly BrokerPlacement[],
): Promise<void> {
  const wanted = liveSpecConfigs(ins);
  const adminOf = (b: BrokerPlacement) => brokerConfigAdminOf(ctx, ins.id, b);
  for (const b of brokers) await adminOf(b).set(b.brokerId, wanted);
  await until('every broker reporting the new spec', ctx.settings.readyTimeoutMs, async () => {
    for (const b of brokers) {
      const got = await adminOf(b).get(b.brokerId, Object.keys(wanted));
      if (Object.entries(wanted).some(([k, v]) => got[k] !== v)) return false;
    }
    return true;
  });
}
