import type { BrokerPlacement } from '@fjord/db';
import { InstanceAdmin, instanceAdminCredential, replicaBytesOn } from '@fjord/fleet';

/** What a scale-in must know of the data already on an instance (read from its brokers). */
export interface ReplicaFootprint {
  /** The topic (internal ones included) with the most replicas of a partition; undefined without topics. */
  widestReplication(
    instanceId: string,
    brokers: readonly BrokerPlacement[],
  ): Promise<{ topic: string; replicationFactor: number } | undefined>;
  /** Bytes of every replica on every running broker (DescribeLogDirs on each). */
  replicaBytes(instanceId: string, brokers: readonly BrokerPlacement[]): Promise<number>;
}

const controlPort = (b: BrokerPlacement) => (b.ports as Record<string, number>).CONTROL;
const running = (brokers: readonly BrokerPlacement[]) =>
  brokers.filter((b) => b.status === 'RUNNING' && controlPort(b)).sort((a, b) => a.brokerId - b.brokerId);

/** The widest replication of a partition layout. */
export function widestOf(
  layout: readonly { topic: string; replicas: readonly number[] }[],
): { topic: string; replicationFactor: number } | undefined {
  let widest: { topic: string; replicationFactor: number } | undefined;
  for (const p of layout)
    if (!widest || p.replicas.length > widest.replicationFactor)
      widest = { topic: p.topic, replicationFactor: p.replicas.length };
  return widest;
}

/**
 * All replica bytes of an instance from the brokers that answered: a broker that is down (perhaps
 * the one being removed) is estimated from the others. Throws when none answered.
 */
export async function replicaBytesOfBrokers(
  instanceId: string,
  brokers: readonly BrokerPlacement[],
  adminSecret: string,
): Promise<number> {
  const credential = instanceAdminCredential(instanceId, adminSecret);
  const up = running(brokers);
  const sizes = (
    await Promise.all(
      up.map((b) =>
        replicaBytesOn({ host: b.host, port: controlPort(b)!, credential }).catch(() => undefined),
      ),
    )
  ).filter((n): n is number => n !== undefined);
  if (sizes.length === 0) throw new Error('no broker answered DescribeLogDirs');
  return (sizes.reduce((a, b) => a + b, 0) * up.length) / sizes.length;
}

/** A footprint read with a short-lived admin client per call (the worker's occasional reads). */
export class BrokerReplicaFootprint implements ReplicaFootprint {
  constructor(private readonly adminSecret: string) {}

  async widestReplication(instanceId: string, brokers: readonly BrokerPlacement[]) {
    const first = running(brokers)[0];
    if (!first) throw new Error('the instance has no running brokers');
    const admin = new InstanceAdmin([`${first.host}:${controlPort(first)}`], {
      sasl: instanceAdminCredential(instanceId, this.adminSecret),
      requestTimeoutMs: 5000,
    });
    try {
      return widestOf(await admin.partitionLayout());
    } finally {
      await admin.close();
    }
  }

  replicaBytes(instanceId: string, brokers: readonly BrokerPlacement[]) {
    return replicaBytesOfBrokers(instanceId, brokers, this.adminSecret);
  }
}
