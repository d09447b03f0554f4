import { TopicCreateInput, TopicDeleteInput, TopicUpdateInput } from '@fjord/contracts';
import { AdminError } from '@fjord/fleet';
import { type FlowContext, operationInput, PermanentError, withInstanceAdmins } from '../context.js';
import { loadInstance } from './brokers.js';

const PERMANENT_KAFKA_ERRORS = new Set([
  'INVALID_PARTITIONS',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_CONFIG',
  'INVALID_TOPIC_EXCEPTION',
  'POLICY_VIOLATION',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'INVALID_REQUEST',
]);

async function onAdmins(
  ctx: FlowContext,
  fn: (admins: Awaited<Parameters<Parameters<typeof withInstanceAdmins>[3]>[0]>) => Promise<void>,
) {
  const ins = await loadInstance(ctx);
  try {
    await withInstanceAdmins(ctx, ins.id, ins.brokers, fn);
  } catch (e) {
    if (e instanceof AdminError && e.kafkaType && PERMANENT_KAFKA_ERRORS.has(e.kafkaType))
      throw new PermanentError(e.kafkaType.toLowerCase(), e.message);
    throw e;
  }
}

export async function createTopic(ctx: FlowContext): Promise<void> {
  const t = operationInput(ctx, TopicCreateInput);
  await onAdmins(ctx, async (admins) => {
    for (const a of admins) {
      const brokers = (await a.clusterBrokerIds()).length;
      await a.createTopic({
        name: t.name,
        partitions: t.partitions,
        replicationFactor: Math.min(t.replicationFactor, brokers),
        configs: t.configs,
      });
    }
  });
}

export async function updateTopic(ctx: FlowContext): Promise<void> {
  const t = operationInput(ctx, TopicUpdateInput);
  await onAdmins(ctx, async (admins) => {
    for (const a of admins) {
      if (t.partitions !== undefined) await a.ensurePartitions(t.name, t.partitions);
      const remove = t.removeConfigs ?? [];
      if (Object.keys(t.configs ?? {}).length > 0 || remove.length > 0)
        await a.setTopicConfigs(t.name, t.configs ?? {}, remove);
    }
  });
}

export async function deleteTopic(ctx: FlowContext): Promise<void> {
  const t = operationInput(ctx, TopicDeleteInput);
  await onAdmins(ctx, async (admins) => {
    for (const a of admins) await a.deleteTopic(t.name);
  });
}
