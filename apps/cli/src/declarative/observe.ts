import type { AccessRoute, AclBinding, InstanceSpec } from '@fjord/contracts';
import { type FjordClient, must } from '../apiClient.js';
import type { ObservedInstance, ObservedState } from './observedState.js';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Every item of a cursor-paged list. */
async function allPages<T>(
  what: string,
  page: (cursor: string | undefined) => Promise<{ data?: Page<T>; error?: unknown; response: Response }>,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const { data } = await must(what, page(cursor));
    out.push(...data.items);
    cursor = data.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/** The ETag of a resource at `version`: the API documents `version` as its ETag. */
export const etagOfVersion = (version: number) => `"${version}"`;

export interface ObserveScope {
  /** Instances whose topics, users, ACLs and alarm policies are read; others are listed only. */
  readonly instances: 'all' | ReadonlySet<string>;
}

/** Reads what a plan compares: instances (and, for those in scope, what they hold), policies, sub-accounts. */
export async function observe(api: FjordClient, scope: ObserveScope): Promise<ObservedState> {
  const [instances, policies, subAccounts] = await Promise.all([
    allPages('list instances', (cursor) =>
      api.GET('/v1/instances', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }),
    ),
    allPages('list policies', (cursor) =>
      api.GET('/v1/policies', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }),
    ),
    allPages('list sub-accounts', (cursor) =>
      api.GET('/v1/sub-accounts', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }),
    ),
  ]);
  const inScope = (name: string) => scope.instances === 'all' || scope.instances.has(name);
  const observed = await Promise.all(
    instances.map(async (i): Promise<ObservedInstance> => {
      const path = { instanceId: i.id };
      // A deleting instance is as good as gone; a creating one has no cluster to read yet.
      const readable =
        inScope(i.name) && i.status !== 'deleting' && i.status !== 'creating' && i.status !== 'failed';
      const [topics, users, acls, alarmPolicies, connectors] = readable
        ? await Promise.all([
            allPages(`list topics of ${i.name}`, (cursor) =>
              api.GET('/v1/instances/{instanceId}/topics', {
                params: { path, query: { limit: 100, ...(cursor ? { cursor } : {}) } },
              }),
            ),
            allPages(`list users of ${i.name}`, (cursor) =>
              api.GET('/v1/instances/{instanceId}/users', {
                params: { path, query: { limit: 100, ...(cursor ? { cursor } : {}) } },
              }),
            ),
            allPages(`list ACLs of ${i.name}`, (cursor) =>
              api.GET('/v1/instances/{instanceId}/acls', {
                params: { path, query: { limit: 100, ...(cursor ? { cursor } : {}) } },
              }),
            ),
            allPages(`list alarm policies of ${i.name}`, (cursor) =>
              api.GET('/v1/instances/{instanceId}/alarm-policies', {
                params: { path, query: { limit: 100, ...(cursor ? { cursor } : {}) } },
              }),
            ),
            allPages(`list connectors of ${i.name}`, () =>
              api.GET('/v1/instances/{instanceId}/connectors', { params: { path } }),
            ),
          ])
        : [[], [], [], [], []];
      return {
        id: i.id,
        etag: etagOfVersion(i.version),
        name: i.name,
        status: i.status,
        zones: i.zones,
        brokerCount: i.brokerCount,
        spec: i.spec as InstanceSpec,
        defaultReplicationFactor: i.defaultReplicationFactor,
        kafkaVersion: i.kafkaVersion,
        accessRoutes: i.accessRoutes as AccessRoute[],
        deletionProtection: i.deletionProtection,
        topics: topics
          .filter((t) => t.status !== 'deleting')
          .map((t) => ({
            name: t.name,
            partitions: t.partitions,
            replicationFactor: t.replicationFactor,
            configs: t.configs,
          })),
        users: users
          .filter((u) => u.status !== 'deleting')
          .map((u) => ({ name: u.name, mechanisms: u.mechanisms })),
        acls: acls as AclBinding[],
        alarmPolicies: alarmPolicies.map((p) => ({ ...p, etag: etagOfVersion(p.version) })),
        connectors: connectors.map((c) => ({
          id: c.id,
          etag: etagOfVersion(c.version),
          name: c.name,
          type: c.type,
          tasksMax: c.tasksMax,
          config: c.config,
          secretsSet: c.secretsSet,
          desiredState: c.desiredState,
        })),
      };
    }),
  );
  return {
    instances: observed,
    policies: policies.map((p) => ({
      id: p.id,
      name: p.name,
      effect: p.effect,
      actions: p.actions,
      resources: p.resources,
    })),
    subAccounts: subAccounts.map((s) => ({ id: s.id, name: s.name, policyIds: s.policyIds })),
  };
}
