import type { BrokerPlacement, Instance } from '@fjord/db';
import { INSTANCE_BANDWIDTH_KEY, INSTANCE_PARTITION_LIMIT_KEY } from '@fjord/metadata';
import { brokerConfigAdminOf, type FlowContext, until } from '../context.js';

/** The spec settings brokers take at run time, as their dynamic broker configs. */
export function liveSpecConfigs(
  ins: Pick<Instance, 'bandwidthMBps' | 'partitionLimit'>,
): Record<string, string> {
  return {
    [INSTANCE_BANDWIDTH_KEY]: String(ins.bandwidthMBps * 1_000_000),
    [INSTANCE_PARTITION_LIMIT_KEY]: String(ins.partitionLimit),
  };
}

/**
 * Applies the instance's bandwidth and partition limit to its running brokers without a restart
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
