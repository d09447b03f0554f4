import { RESERVED_SASL_USERS } from '@fjord/contracts';
import { stringify } from 'yaml';
import type { ObservedState } from './observedState.js';
import { aclKey, SERVICE_ACLS } from './planner.js';

/** The environment variable `fjord import` names for a user's password (never read back). */
export const passwordVariable = (instance: string, user: string) =>
  `FJORD_PASSWORD_${instance}_${user}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');

/** The environment variable `fjord import` names for a connector's secret (never read back). */
export const secretVariable = (instance: string, connector: string, secret: string) =>
  `FJORD_SECRET_${instance}_${connector}_${secret}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');

/**
 * `fjord import`: the live state as fjord.yaml, so that a plan right after it is empty. What the
 * service keeps by itself (system alarm policies, its SCRAM users, PLAINTEXT route grants) is left
 * out; passwords and connector secrets, which the API never returns, become environment references
 * to fill in.
 */
export function importedYaml(observed: ObservedState, only?: ReadonlySet<string>): string {
  const policyName = new Map(observed.policies.map((p) => [p.id, p.name]));
  const doc = {
    instances: observed.instances
      .filter((i) => i.status !== 'deleting' && (!only || only.has(i.name)))
      .map((i) => ({
        name: i.name,
        zones: [...i.zones],
        brokerCount: i.brokerCount,
        spec: { ...i.spec },
        defaultReplicationFactor: i.defaultReplicationFactor,
        kafkaVersion: i.kafkaVersion,
        accessRoutes: i.accessRoutes.map((r) => ({ ...r })),
        deletionProtection: i.deletionProtection,
        topics: i.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions,
          replicationFactor: t.replicationFactor,
          ...(Object.keys(t.configs).length > 0 ? { configs: { ...t.configs } } : {}),
        })),
        users: i.users
          .filter((u) => !RESERVED_SASL_USERS.has(u.name))
          .map((u) => ({
            name: u.name,
            password: `\${env:${passwordVariable(i.name, u.name)}}`,
            ...(u.mechanisms.length === 1 ? { mechanism: u.mechanisms[0] } : {}),
          })),
        acls: i.acls.filter((a) => !SERVICE_ACLS.has(aclKey(a))).map((a) => ({ ...a })),
        alarmPolicies: i.alarmPolicies
          .filter((p) => !p.system)
          .map((p) => ({
            name: p.name,
            metric: p.metric,
            scope: { ...p.scope },
            comparison: p.comparison,
            threshold: p.threshold,
            durationSeconds: p.durationSeconds,
            severity: p.severity,
            channelIds: [...p.channelIds],
            enabled: p.enabled,
            muted: p.muted,
          })),
        connectors: i.connectors.map((c) => ({
          name: c.name,
          type: c.type,
          tasksMax: c.tasksMax,
          desiredState: c.desiredState,
          config: structuredClone(c.config),
          secrets: Object.fromEntries(
            c.secretsSet.map((k) => [k, `\${env:${secretVariable(i.name, c.name, k)}}`]),
          ),
        })),
      })),
    policies: observed.policies.map((p) => ({
      name: p.name,
      effect: p.effect,
      actions: [...p.actions],
      resources: [...p.resources],
    })),
    subAccounts: observed.subAccounts.map((s) => ({
      name: s.name,
      policies: s.policyIds.map((id) => policyName.get(id)).filter((n): n is string => n !== undefined),
    })),
  };
  return stringify(doc);
}
