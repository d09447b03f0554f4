import { type AclBinding, RESERVED_SASL_USERS, VPC_PLAINTEXT_GRANTS } from '@fjord/contracts';
import type {
  DesiredAlarmPolicy,
  DesiredConnector,
  DesiredInstance,
  DesiredPolicy,
  DesiredState,
  DesiredSubAccount,
  DesiredTopic,
  DesiredUser,
} from './desiredState.js';
import type {
  ObservedAlarmPolicy,
  ObservedConnector,
  ObservedInstance,
  ObservedPolicy,
  ObservedState,
  ObservedSubAccount,
  ObservedTopic,
  ObservedUser,
} from './observedState.js';

/**
 * The planner: desired state (fjord.yaml) against observed state (the API) → ordered actions.
 * Pure; the apply shell turns each action into API calls.
 */
export type ActionKind = 'create' | 'update' | 'replace' | 'delete';

export interface FieldChange {
  readonly path: string;
  readonly from: unknown;
  readonly to: unknown;
  /** The API cannot change this field in place: the resource is deleted and created again. */
  readonly forcesReplacement?: boolean;
  /** Never shown (write-only secrets). */
  readonly sensitive?: boolean;
}

export type ActionTarget =
  | { type: 'instance'; name: string; desired?: DesiredInstance; observed?: ObservedInstance }
  | { type: 'topic'; instance: string; desired?: DesiredTopic; observed?: ObservedTopic }
  | { type: 'user'; instance: string; desired?: DesiredUser; observed?: ObservedUser }
  | { type: 'acl'; instance: string; binding: AclBinding }
  | { type: 'alarmPolicy'; instance: string; desired?: DesiredAlarmPolicy; observed?: ObservedAlarmPolicy }
  | { type: 'connector'; instance: string; desired?: DesiredConnector; observed?: ObservedConnector }
  | { type: 'policy'; desired?: DesiredPolicy; observed?: ObservedPolicy }
  | {
      type: 'subAccount';
      desired?: DesiredSubAccount;
      observed?: ObservedSubAccount;
      /** Policy names to attach and detach (names resolved to ids when applied). */
      attach: readonly string[];
      detach: readonly string[];
    };

export interface PlannedAction {
  /** `instance.orders`, `instance.orders.topic.events`, `policy.deployers`, … */
  readonly address: string;
  readonly kind: ActionKind;
  readonly target: ActionTarget;
  readonly changes: readonly FieldChange[];
  /** Addresses of actions that must finish first. */
  readonly dependsOn: readonly string[];
}

export interface Plan {
  /** In an order that respects dependsOn. */
  readonly actions: readonly PlannedAction[];
  /** Resources not in the file that `--prune` would delete (when not pruning). */
  readonly unmanaged: readonly string[];
}

export interface PlanOptions {
  /** Delete resources not in the file (instances of the account, their topics, users, ACLs, …). */
  readonly prune: boolean;
}

export class PlanError extends Error {}

const canonical = (v: unknown): string =>
  JSON.stringify(v, (_, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );
const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);
const sameSet = (a: readonly string[], b: readonly string[]) => same([...a].sort(), [...b].sort());

/** Changes of the fields the desired object gives (a field left out is not managed). */
function diffGiven(
  prefix: string,
  desired: Readonly<Record<string, unknown>>,
  observed: Readonly<Record<string, unknown>>,
  fields: readonly string[],
  replaceFields: ReadonlySet<string> = new Set(),
): FieldChange[] {
  const out: FieldChange[] = [];
  for (const f of fields) {
    const to = desired[f];
    if (to === undefined) continue;
    const from = observed[f];
    if (same(to, from)) continue;
    out.push({
      path: `${prefix}${f}`,
      from,
      to,
      ...(replaceFields.has(f) ? { forcesReplacement: true } : {}),
    });
  }
  return out;
}

export const aclKey = (a: AclBinding) =>
  `${a.principal}/${a.resourceType}/${a.patternType}/${a.resourceName}/${a.operation}/${a.permission}/${a.host}`;

/** ACLs the service keeps itself (PLAINTEXT route grants): never pruned, never reported. */
export const SERVICE_ACLS = new Set(VPC_PLAINTEXT_GRANTS.map(aclKey));

function kindOf(changes: readonly FieldChange[]): ActionKind | undefined {
  if (changes.length === 0) return undefined;
  return changes.some((c) => c.forcesReplacement) ? 'replace' : 'update';
}

const byName = <T extends { name: string }>(xs: readonly T[]) => new Map(xs.map((x) => [x.name, x]));

function instanceChanges(d: DesiredInstance, o: ObservedInstance): FieldChange[] {
  const changes = diffGiven(
    '',
    d,
    { ...o },
    ['zones', 'kafkaVersion', 'defaultReplicationFactor', 'brokerCount', 'deletionProtection'],
    new Set(['zones', 'kafkaVersion', 'defaultReplicationFactor']),
  ).filter((c) => c.path !== 'zones' || !sameSet(c.to as string[], c.from as string[]));
  if (d.spec) changes.push(...diffGiven('spec.', d.spec, o.spec, Object.keys(d.spec)));
  if (d.accessRoutes) {
    const observedRoutes = new Map(o.accessRoutes.map((r) => [r.type, r]));
    for (const r of d.accessRoutes) {
      const cur = observedRoutes.get(r.type);
      const given = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
      if (!cur || !same(given, Object.fromEntries(Object.keys(given).map((k) => [k, (cur as never)[k]]))))
        changes.push({ path: `accessRoutes.${r.type}`, from: cur ?? null, to: r });
    }
    for (const [type, cur] of observedRoutes)
      if (!d.accessRoutes.some((r) => r.type === type))
        changes.push({ path: `accessRoutes.${type}`, from: cur, to: null });
  }
  return changes;
}

/**
 * A topic's config overrides are managed whole: those the file leaves out (all of them when it has
 * no `configs`) are removed, so the broker default applies again (`to: null`).
 */
function configChanges(
  desired: Readonly<Record<string, string>>,
  observed: Readonly<Record<string, string>>,
): FieldChange[] {
  const keys = [...new Set([...Object.keys(desired), ...Object.keys(observed)])].sort();
  return keys
    .filter((k) => desired[k] !== observed[k])
    .map((k) => ({ path: `configs.${k}`, from: observed[k] ?? null, to: desired[k] ?? null }));
}

function createChanges(obj: Readonly<Record<string, unknown>>, sensitive: ReadonlySet<string> = new Set()) {
  return Object.entries(obj)
    .filter(([, v]) => v !== undefined)
    .map(
      ([k, v]): FieldChange => ({
        path: k,
        from: null,
        to: v,
        ...(sensitive.has(k) ? { sensitive: true } : {}),
      }),
    );
}

interface Draft {
  actions: PlannedAction[];
  unmanaged: string[];
}

function planInstanceChildren(
  out: Draft,
  opts: PlanOptions,
  d: DesiredInstance,
  o: ObservedInstance | undefined,
  parentAction: string | undefined,
): void {
  const base = `instance.${d.name}`;
  const deps = parentAction ? [parentAction] : [];
  const add = (address: string, kind: ActionKind, target: ActionTarget, changes: FieldChange[]) =>
    out.actions.push({ address, kind, target, changes, dependsOn: deps });
  const unmanaged = (address: string, target: ActionTarget) => {
    if (opts.prune) add(address, 'delete', target, []);
    else out.unmanaged.push(address);
  };

  const topics = byName(o?.topics ?? []);
  for (const t of d.topics) {
    const cur = topics.get(t.name);
    const address = `${base}.topic.${t.name}`;
    if (!cur) {
      add(address, 'create', { type: 'topic', instance: d.name, desired: t }, createChanges({ ...t }));
      continue;
    }
    const changes: FieldChange[] = [];
    if (t.partitions !== undefined && t.partitions !== cur.partitions)
      // Kafka adds partitions but never removes them.
      changes.push({
        path: 'partitions',
        from: cur.partitions,
        to: t.partitions,
        ...(t.partitions < cur.partitions ? { forcesReplacement: true } : {}),
      });
    changes.push(...diffGiven('', t, { ...cur }, ['replicationFactor'], new Set(['replicationFactor'])));
    changes.push(...configChanges(t.configs ?? {}, cur.configs));
    const kind = kindOf(changes);
    if (kind) add(address, kind, { type: 'topic', instance: d.name, desired: t, observed: cur }, changes);
  }
  for (const cur of o?.topics ?? [])
    if (!d.topics.some((t) => t.name === cur.name))
      unmanaged(`${base}.topic.${cur.name}`, { type: 'topic', instance: d.name, observed: cur });

  const users = byName(o?.users ?? []);
  for (const u of d.users) {
    const cur = users.get(u.name);
    const address = `${base}.user.${u.name}`;
    if (!cur)
      add(
        address,
        'create',
        { type: 'user', instance: d.name, desired: u },
        createChanges({ ...u }, new Set(['password'])),
      );
    else if (u.mechanism !== undefined && !cur.mechanisms.includes(u.mechanism))
      add(address, 'update', { type: 'user', instance: d.name, desired: u, observed: cur }, [
        { path: 'mechanism', from: cur.mechanisms, to: u.mechanism },
        { path: 'password', from: null, to: null, sensitive: true },
      ]);
    else if (cur.passwordMatches === false)
      // Setting the password again (POST of an existing user) is the update.
      add(address, 'update', { type: 'user', instance: d.name, desired: u, observed: cur }, [
        { path: 'password', from: null, to: null, sensitive: true },
      ]);
  }
  for (const cur of o?.users ?? [])
    if (!RESERVED_SASL_USERS.has(cur.name) && !d.users.some((u) => u.name === cur.name))
      unmanaged(`${base}.user.${cur.name}`, { type: 'user', instance: d.name, observed: cur });

  const acls = new Set((o?.acls ?? []).map(aclKey));
  const wanted = new Set(d.acls.map(aclKey));
  for (const a of d.acls)
    if (!acls.has(aclKey(a)))
      add(
        `${base}.acl[${aclKey(a)}]`,
        'create',
        { type: 'acl', instance: d.name, binding: a },
        createChanges({ ...a }),
      );
  for (const a of o?.acls ?? [])
    if (!wanted.has(aclKey(a)) && !SERVICE_ACLS.has(aclKey(a)))
      unmanaged(`${base}.acl[${aclKey(a)}]`, { type: 'acl', instance: d.name, binding: a });

  const alarms = byName(o?.alarmPolicies ?? []);
  for (const p of d.alarmPolicies) {
    const cur = alarms.get(p.name);
    const address = `${base}.alarmPolicy.${p.name}`;
    if (!cur) {
      add(address, 'create', { type: 'alarmPolicy', instance: d.name, desired: p }, createChanges({ ...p }));
      continue;
    }
    const fields = [
      'metric',
      'scope',
      'comparison',
      'threshold',
      'durationSeconds',
      'severity',
      'channelIds',
      'enabled',
      'muted',
    ];
    const changes = diffGiven('', p, { ...cur }, fields, new Set(['metric']));
    const kind = kindOf(changes);
    if (kind === 'replace' && cur.system)
      throw new PlanError(`${address}: a system alarm policy cannot change its metric`);
    if (kind)
      add(address, kind, { type: 'alarmPolicy', instance: d.name, desired: p, observed: cur }, changes);
  }
  for (const cur of o?.alarmPolicies ?? [])
    if (!cur.system && !d.alarmPolicies.some((p) => p.name === cur.name))
      unmanaged(`${base}.alarmPolicy.${cur.name}`, { type: 'alarmPolicy', instance: d.name, observed: cur });

  const connectors = byName(o?.connectors ?? []);
  for (const c of d.connectors) {
    const cur = connectors.get(c.name);
    const address = `${base}.connector.${c.name}`;
    if (!cur) {
      add(address, 'create', { type: 'connector', instance: d.name, desired: c }, [
        ...createChanges({ ...c, secrets: undefined }),
        { path: 'secrets', from: null, to: null, sensitive: true },
      ]);
      continue;
    }
    const changes = connectorChanges(c, cur);
    const kind = kindOf(changes);
    if (kind) add(address, kind, { type: 'connector', instance: d.name, desired: c, observed: cur }, changes);
  }
  for (const cur of o?.connectors ?? [])
    if (!d.connectors.some((c) => c.name === cur.name))
      unmanaged(`${base}.connector.${cur.name}`, { type: 'connector', instance: d.name, observed: cur });
}

/** A connector's changes: config keys (the config is whole), tasksMax and state when given, secrets when the API says they differ. */
export function connectorChanges(d: DesiredConnector, o: ObservedConnector): FieldChange[] {
  if (d.type !== o.type) return [{ path: 'type', from: o.type, to: d.type, forcesReplacement: true }];
  const desiredConfig = d.config as Readonly<Record<string, unknown>>;
  const keys = [...new Set([...Object.keys(desiredConfig), ...Object.keys(o.config)])].sort();
  const changes: FieldChange[] = keys
    .filter((k) => !same(desiredConfig[k] ?? null, o.config[k] ?? null))
    .map((k) => ({ path: `config.${k}`, from: o.config[k] ?? null, to: desiredConfig[k] ?? null }));
  changes.push(...diffGiven('', d, { ...o }, ['tasksMax', 'desiredState']));
  const given = Object.keys(d.secrets).filter((k) => (d.secrets as Record<string, unknown>)[k] !== undefined);
  if (o.secretsMatch === false || !sameSet(given, o.secretsSet))
    changes.push({ path: 'secrets', from: null, to: null, sensitive: true });
  return changes;
}

/** Orders actions so that each comes after what it depends on (stable otherwise). */
function ordered(actions: readonly PlannedAction[]): PlannedAction[] {
  const byAddress = new Map(actions.map((a) => [a.address, a]));
  const done = new Set<string>();
  const out: PlannedAction[] = [];
  const visit = (a: PlannedAction, path: Set<string>) => {
    if (done.has(a.address)) return;
    if (path.has(a.address)) throw new PlanError(`dependency cycle through ${a.address}`);
    path.add(a.address);
    for (const dep of a.dependsOn) {
      const d = byAddress.get(dep);
      if (d) visit(d, path);
    }
    path.delete(a.address);
    done.add(a.address);
    out.push(a);
  };
  for (const a of actions) visit(a, new Set());
  return out;
}

export function plan(desired: DesiredState, observed: ObservedState, opts: PlanOptions): Plan {
  const out: Draft = { actions: [], unmanaged: [] };
  const observedInstances = new Map(
    observed.instances.filter((i) => i.status !== 'deleting').map((i) => [i.name, i]),
  );
  for (const d of desired.instances) {
    const o = observedInstances.get(d.name);
    const address = `instance.${d.name}`;
    if (!o) {
      const { topics: _t, users: _u, acls: _a, alarmPolicies: _p, connectors: _c, ...fields } = d;
      out.actions.push({
        address,
        kind: 'create',
        target: { type: 'instance', name: d.name, desired: d },
        changes: createChanges(fields),
        dependsOn: [],
      });
      planInstanceChildren(out, opts, d, undefined, address);
      continue;
    }
    const changes = instanceChanges(d, o);
    const kind = kindOf(changes);
    if (kind)
      out.actions.push({
        address,
        kind,
        target: { type: 'instance', name: d.name, desired: d, observed: o },
        changes,
        dependsOn: [],
      });
    // A replaced instance comes back empty: everything it should hold is created again.
    planInstanceChildren(out, opts, d, kind === 'replace' ? undefined : o, kind ? address : undefined);
  }
  for (const o of observedInstances.values())
    if (!desired.instances.some((d) => d.name === o.name)) {
      const address = `instance.${o.name}`;
      if (opts.prune)
        out.actions.push({
          address,
          kind: 'delete',
          target: { type: 'instance', name: o.name, observed: o },
          changes: [],
          dependsOn: [],
        });
      else out.unmanaged.push(address);
    }

  const policies = byName(observed.policies);
  const replacedPolicies = new Set<string>();
  for (const d of desired.policies) {
    const o = policies.get(d.name);
    const address = `policy.${d.name}`;
    if (!o) {
      out.actions.push({
        address,
        kind: 'create',
        target: { type: 'policy', desired: d },
        changes: createChanges({ ...d }),
        dependsOn: [],
      });
      continue;
    }
    // Policies have no update in the API: any change is a new policy under the same name.
    const changes = diffGiven(
      '',
      d,
      { ...o },
      ['effect', 'actions', 'resources'],
      new Set(['effect', 'actions', 'resources']),
    );
    if (changes.length > 0) {
      replacedPolicies.add(d.name);
      out.actions.push({
        address,
        kind: 'replace',
        target: { type: 'policy', desired: d, observed: o },
        changes,
        dependsOn: [],
      });
    }
  }
  const policyName = new Map(observed.policies.map((p) => [p.id, p.name]));
  const knownPolicies = new Set([...desired.policies.map((p) => p.name), ...policies.keys()]);

  const subAccounts = byName(observed.subAccounts);
  for (const d of desired.subAccounts) {
    for (const p of d.policies)
      if (!knownPolicies.has(p)) throw new PlanError(`subAccount.${d.name}: no policy named ${p}`);
    const o = subAccounts.get(d.name);
    const address = `subAccount.${d.name}`;
    // Attachments of a replaced policy go with it.
    const attached = (o?.policyIds ?? [])
      .map((id) => policyName.get(id))
      .filter((n): n is string => n !== undefined && !replacedPolicies.has(n));
    const attach = d.policies.filter((p) => !attached.includes(p));
    const detach = attached.filter((p) => !d.policies.includes(p));
    const dependsOn = attach
      .filter((p) => out.actions.some((a) => a.address === `policy.${p}`))
      .map((p) => `policy.${p}`);
    if (!o)
      out.actions.push({
        address,
        kind: 'create',
        target: { type: 'subAccount', desired: d, attach, detach: [] },
        changes: createChanges({ ...d }),
        dependsOn,
      });
    else if (attach.length > 0 || detach.length > 0)
      out.actions.push({
        address,
        kind: 'update',
        target: { type: 'subAccount', desired: d, observed: o, attach, detach },
        changes: [{ path: 'policies', from: [...attached].sort(), to: [...d.policies].sort() }],
        dependsOn,
      });
  }
  for (const o of observed.subAccounts)
    if (!desired.subAccounts.some((d) => d.name === o.name)) {
      if (opts.prune)
        out.actions.push({
          address: `subAccount.${o.name}`,
          kind: 'delete',
          target: { type: 'subAccount', observed: o, attach: [], detach: [] },
          changes: [],
          dependsOn: [],
        });
      else out.unmanaged.push(`subAccount.${o.name}`);
    }
  for (const o of observed.policies)
    if (!desired.policies.some((d) => d.name === o.name)) {
      if (opts.prune)
        out.actions.push({
          address: `policy.${o.name}`,
          kind: 'delete',
          target: { type: 'policy', observed: o },
          changes: [],
          dependsOn: [],
        });
      else out.unmanaged.push(`policy.${o.name}`);
    }
  return { actions: ordered(out.actions), unmanaged: out.unmanaged };
}

/**
 * `fjord destroy`: delete what the file declares and exists. An instance takes its topics, users,
 * ACLs and alarm policies with it, so only resources of kept instances are deleted one by one.
 */
export function planDestroy(desired: DesiredState, observed: ObservedState): Plan {
  const actions: PlannedAction[] = [];
  const instances = new Map(
    observed.instances.filter((i) => i.status !== 'deleting').map((i) => [i.name, i]),
  );
  for (const d of desired.instances) {
    const o = instances.get(d.name);
    if (o)
      actions.push({
        address: `instance.${d.name}`,
        kind: 'delete',
        target: { type: 'instance', name: d.name, observed: o },
        changes: [],
        dependsOn: [],
      });
  }
  const subAccounts = byName(observed.subAccounts);
  for (const d of desired.subAccounts) {
    const o = subAccounts.get(d.name);
    if (o)
      actions.push({
        address: `subAccount.${d.name}`,
        kind: 'delete',
        target: { type: 'subAccount', observed: o, attach: [], detach: [] },
        changes: [],
        dependsOn: [],
      });
  }
  const policies = byName(observed.policies);
  for (const d of desired.policies) {
    const o = policies.get(d.name);
    if (o)
      actions.push({
        address: `policy.${d.name}`,
        kind: 'delete',
        target: { type: 'policy', observed: o },
        changes: [],
        dependsOn: desired.subAccounts
          .filter((s) => subAccounts.has(s.name))
          .map((s) => `subAccount.${s.name}`),
      });
  }
  return { actions: ordered(actions), unmanaged: [] };
}
