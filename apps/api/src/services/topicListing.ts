import type { Topic } from '@fjord/contracts';
import type { Operation as OperationRow, PrismaClient } from '@fjord/db';
import type { InstanceWithBrokers } from '../views/instanceView.js';
import type { ClusterAdmin, TopicState } from './clusterAdmin.js';

const topicOfTarget = (target: string) => target.split('/topic/')[1];

/**
 * Topics as the cluster reports them, overlaid with unfinished operations: a topic being created
 * is listed (status creating) from the moment its create call returns.
 */
export function mergeTopics(cluster: readonly TopicState[], active: readonly OperationRow[]): Topic[] {
  const byName = new Map<string, Topic>(
    cluster.map((t) => [
      t.name,
      {
        name: t.name,
        partitions: t.partitions,
        replicationFactor: t.replicationFactor,
        configs: t.configs,
        status: 'active',
        operationId: null,
      },
    ]),
  );
  for (const op of active) {
    const name = topicOfTarget(op.target);
    if (!name) continue;
    const existing = byName.get(name);
    if (op.kind === 'topic.create' && !existing) {
      const input = op.input as {
        partitions: number;
        replicationFactor: number;
        configs: Record<string, string>;
      };
      byName.set(name, {
        name,
        partitions: input.partitions,
        replicationFactor: input.replicationFactor,
        configs: input.configs,
        status: 'creating',
        operationId: op.id,
      });
    } else if (existing && op.kind === 'topic.delete')
      byName.set(name, { ...existing, status: 'deleting', operationId: op.id });
    else if (existing) byName.set(name, { ...existing, operationId: op.id });
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** An instance's topics: the cluster's, with the ones unfinished operations are creating or deleting. */
export async function listTopics(
  deps: { readonly prisma: PrismaClient; readonly cluster: ClusterAdmin },
  instance: InstanceWithBrokers,
): Promise<Topic[]> {
  const [state, active] = await Promise.all([
    deps.cluster.listTopics(instance.id, instance.brokers),
    deps.prisma.operation.findMany({
      where: {
        instanceId: instance.id,
        status: { in: ['PENDING', 'RUNNING'] },
        kind: { startsWith: 'topic.' },
      },
    }),
  ]);
  return mergeTopics(state, active);
}

/** Partitions the topics hold, counted against the instance's partition limit. */
export const partitionsInUse = (topics: readonly Topic[]) => topics.reduce((n, t) => n + t.partitions, 0);
