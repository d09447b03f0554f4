import { AccessRoute, type Instance, listenerOfRoute, usesTls } from '@fjord/contracts';
import type { BrokerPlacement } from '@fjord/db';
import type { InstanceWithBrokers } from '@fjord/provisioning';

export const portsOf = (b: BrokerPlacement) => b.ports as Record<string, number>;

export type { InstanceWithBrokers };

/** The routes as stored, with today's defaults for fields older rows lack (allowlists). */
export const routesOf = (row: Pick<InstanceWithBrokers, 'accessRoutes'>): AccessRoute[] =>
  AccessRoute.array().parse(row.accessRoutes);

export function bootstrapServersOf(row: InstanceWithBrokers): Instance['bootstrapServers'] {
  const routes = routesOf(row);
  const running = [...row.brokers]
    .filter((b) => b.status === 'RUNNING')
    .sort((a, b) => a.brokerId - b.brokerId);
  if (running.length === 0) return [];
  return routes.map((r) => ({
    route: r.type,
    securityProtocol: r.securityProtocol,
    servers: running.map((b) => `${b.host}:${portsOf(b)[listenerOfRoute(r.type)]}`).join(','),
  }));
}

/**
 * The instance as the API shows it. `caBundle` is the deployment's (`deploymentCaBundle`); it is
 * shown only to instances with a TLS route.
 */
export function instanceView(row: InstanceWithBrokers, caBundle: string | null): Instance {
  const routes = routesOf(row);
  return {
    id: row.id,
    accountId: row.accountId,
    name: row.name,
    zones: row.zones,
    brokerCount: row.brokerCount,
    spec: { bandwidthMBps: row.bandwidthMBps, diskGiB: row.diskGiB, partitionLimit: row.partitionLimit },
    defaultReplicationFactor: row.defaultReplicationFactor,
    kafkaVersion: row.kafkaVersion as Instance['kafkaVersion'],
    accessRoutes: routes,
    status: row.status.toLowerCase() as Instance['status'],
    statusReason: row.statusReason,
    health: {
      status: row.health as Instance['health']['status'],
      reason: row.healthReason,
      checkedAt: row.healthCheckedAt ? new Date(row.healthCheckedAt).toISOString() : null,
    },
    deletionProtection: row.deletionProtection,
    bootstrapServers: bootstrapServersOf(row),
    caBundle: routes.some(usesTls) ? caBundle : null,
    brokers: [...row.brokers]
      .sort((a, b) => a.brokerId - b.brokerId)
      .map((b) => ({
        id: b.brokerId,
        zone: b.zone,
        status: b.status.toLowerCase(),
        observed: (b.observedState ?? null) as Instance['brokers'][number]['observed'],
        restarts: b.restarts ?? 0,
      })),
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
