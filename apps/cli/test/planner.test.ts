import { DEFAULT_ACCESS_ROUTES } from '@fjord/contracts';
import { describe, expect, it } from 'vitest';
import { DesiredStateError, parseDesiredState } from '../src/declarative/desiredState.js';
import { importedYaml } from '../src/declarative/importState.js';
import type { ObservedConnector, ObservedInstance, ObservedState } from '../src/declarative/observedState.js';
import { PlanError, plan, planDestroy } from '../src/declarative/planner.js';
import { planText } from '../src/declarative/planText.js';

const env = { APP_PASSWORD: 'app-secret-1' };
const desired = (yaml: string) => parseDesiredState(yaml, env);

const FILE = `
instances:
  - name: orders
    zones: [az-1]
    brokerCount: 1
    spec: { diskGiB: 1 }
    deletionProtection: false
    topics:
      - { name: events, partitions: 3, configs: { retention.ms: "60000" } }
    users:
      - { name: app, password: "\${env:APP_PASSWORD}", mechanism: SCRAM-SHA-512 }
    acls:
      - { resourceType: topic, resourceName: events, principal: "User:app", operation: read }
policies:
  - { name: deployers, effect: allow, actions: ["kafka:CreateTopic"], resources: ["instance/*"] }
subAccounts:
  - { name: ci, policies: [deployers] }
`;

const instance = (over: Partial<ObservedInstance> = {}): ObservedInstance => ({
  id: 'ins-0000000000000001',
  etag: '"3"',
  name: 'orders',
  status: 'running',
  zones: ['az-1'],
  brokerCount: 1,
  spec: { bandwidthMBps: 40, diskGiB: 1, partitionLimit: 400 },
  defaultReplicationFactor: 1,
  kafkaVersion: '3.8',
  accessRoutes: [],
  deletionProtection: false,
  topics: [{ name: 'events', partitions: 3, replicationFactor: 1, configs: { 'retention.ms': '60000' } }],
  users: [{ name: 'app', mechanisms: ['SCRAM-SHA-512'] }],
  acls: [
    {
      resourceType: 'topic',
      resourceName: 'events',
      patternType: 'literal',
      principal: 'User:app',
      host: '*',
      operation: 'read',
      permission: 'allow',
    },
  ],
  alarmPolicies: [],
  connectors: [],
  ...over,
});

const inSync: ObservedState = {
  instances: [instance()],
  policies: [
    {
      id: 'pol-1',
      name: 'deployers',
      effect: 'allow',
      actions: ['kafka:CreateTopic'],
      resources: ['instance/*'],
    },
  ],
  subAccounts: [{ id: 'sub-1', name: 'ci', policyIds: ['pol-1'] }],
};
const empty: ObservedState = { instances: [], policies: [], subAccounts: [] };

const SINK_FILE = `
instances:
  - name: orders
    zones: [az-1]
    connectors:
      - name: archive
        type: s3-sink
        config: { topics: [events], bucket: archive, rollSeconds: 60 }
        secrets: { accessKeyId: "\${env:S3_KEY}", secretAccessKey: "\${env:S3_SECRET}" }
`;
const sinkEnv = { S3_KEY: 'AKID', S3_SECRET: 's3-secret-never-shown' };
const sinkConnector = (over: Partial<ObservedConnector> = {}): ObservedConnector => ({
  id: 'con-1',
  etag: '"2"',
  name: 'archive',
  type: 's3-sink',
  tasksMax: 1,
  // As the API shows it: defaults filled in.
  config: {
    topics: ['events'],
    bucket: 'archive',
    prefix: '',
    region: 'us-east-1',
    forcePathStyle: false,
    format: 'jsonl.gz',
    rollRecords: 100_000,
    rollBytes: 64 * 1024 * 1024,
    rollSeconds: 60,
    errors: { tolerance: 'none' },
  },
  secretsSet: ['accessKeyId', 'secretAccessKey'],
  desiredState: 'RUNNING',
  ...over,
});
const withConnector = (c: ObservedConnector): ObservedState => ({
  ...empty,
  instances: [instance({ topics: [], users: [], acls: [], connectors: [c] })],
});

describe('connectors', () => {
  const sinkDesired = () => parseDesiredState(SINK_FILE, sinkEnv);

  it('are created with their secrets never shown, and in sync plan nothing', () => {
    const p = plan(sinkDesired(), empty, { prune: false });
    expect(p.actions.map((a) => `${a.kind} ${a.address}`)).toEqual([
      'create instance.orders',
      'create instance.orders.connector.archive',
    ]);
    const text = planText(p);
    expect(text).toContain('secrets: (sensitive)');
    expect(text).not.toContain('s3-secret-never-shown');
    expect(plan(sinkDesired(), withConnector(sinkConnector()), { prune: false }).actions).toEqual([]);
  });

  it('a config change is an update of the keys that differ; a type change replaces', () => {
    const p = plan(
      sinkDesired(),
      withConnector(
        sinkConnector({ config: { ...sinkConnector().config, rollSeconds: 600, endpoint: 'http://x' } }),
      ),
      { prune: false },
    );
    expect(p.actions).toHaveLength(1);
    expect(p.actions[0]).toMatchObject({ kind: 'update', address: 'instance.orders.connector.archive' });
    expect(p.actions[0]!.changes).toEqual([
      { path: 'config.endpoint', from: 'http://x', to: null },
      { path: 'config.rollSeconds', from: 600, to: 60 },
    ]);
    const replaced = plan(sinkDesired(), withConnector(sinkConnector({ type: 'mirror' })), { prune: false });
    expect(replaced.actions[0]).toMatchObject({
      kind: 'replace',
      changes: [{ path: 'type', from: 'mirror', to: 's3-sink', forcesReplacement: true }],
    });
  });

  it('paused or running when the file says so; tasksMax when given', () => {
    const paused = parseDesiredState(
      SINK_FILE.replace('type: s3-sink', 'type: s3-sink\n        desiredState: PAUSED\n        tasksMax: 2'),
      sinkEnv,
    );
    expect(plan(paused, withConnector(sinkConnector()), { prune: false }).actions[0]!.changes).toEqual([
      { path: 'tasksMax', from: 1, to: 2 },
      { path: 'desiredState', from: 'RUNNING', to: 'PAUSED' },
    ]);
    // Not in the file: not managed.
    expect(
      plan(sinkDesired(), withConnector(sinkConnector({ desiredState: 'PAUSED', tasksMax: 4 })), {
        prune: false,
      }).actions,
    ).toEqual([]);
  });

  it('secrets that the API says differ, or a different set of them, are an update', () => {
    const p = plan(sinkDesired(), withConnector(sinkConnector({ secretsMatch: false })), { prune: false });
    expect(p.actions[0]!.changes).toEqual([{ path: 'secrets', from: null, to: null, sensitive: true }]);
    expect(planText(p)).toContain('secrets: (sensitive) → (sensitive)');
    expect(
      plan(sinkDesired(), withConnector(sinkConnector({ secretsMatch: true })), { prune: false }).actions,
    ).toEqual([]);
  });

  it('a connector not in the file is deleted only with prune', () => {
    const extra = withConnector(sinkConnector({ name: 'stray' }));
    const file = parseDesiredState('instances: [{ name: orders, zones: [az-1] }]', {});
    expect(plan(file, extra, { prune: false }).unmanaged).toEqual(['instance.orders.connector.stray']);
    expect(plan(file, extra, { prune: true }).actions.map((a) => `${a.kind} ${a.address}`)).toEqual([
      'delete instance.orders.connector.stray',
    ]);
  });

  it('import writes secrets as environment references; with them set, the plan is empty', () => {
    const observed: ObservedState = {
      ...empty,
      instances: [{ ...withConnector(sinkConnector()).instances[0]!, accessRoutes: DEFAULT_ACCESS_ROUTES }],
    };
    const yaml = importedYaml(observed);
    expect(yaml).toContain(`\${env:FJORD_SECRET_ORDERS_ARCHIVE_SECRETACCESSKEY}`);
    const back = parseDesiredState(yaml, {
      FJORD_SECRET_ORDERS_ARCHIVE_ACCESSKEYID: 'a',
      FJORD_SECRET_ORDERS_ARCHIVE_SECRETACCESSKEY: 'b',
    });
    expect(plan(back, observed, { prune: false }).actions).toEqual([]);
  });
});

describe('passwords', () => {
  it("a password the API says is not the user's is an update; the password is never shown", () => {
    const p = plan(
      desired(FILE),
      {
        ...inSync,
        instances: [
          instance({ users: [{ name: 'app', mechanisms: ['SCRAM-SHA-512'], passwordMatches: false }] }),
        ],
      },
      { prune: false },
    );
    expect(p.actions.map((a) => `${a.kind} ${a.address}`)).toEqual(['update instance.orders.user.app']);
    expect(p.actions[0]!.changes).toEqual([{ path: 'password', from: null, to: null, sensitive: true }]);
    expect(planText(p)).not.toContain('app-secret-1');
    const matching = {
      ...inSync,
      instances: [
        instance({ users: [{ name: 'app', mechanisms: ['SCRAM-SHA-512'], passwordMatches: true }] }),
      ],
    };
    expect(plan(desired(FILE), matching, { prune: false }).actions).toEqual([]);
  });
});

describe('fjord.yaml', () => {
  it('resolves environment references and refuses a missing variable, naming the field', () => {
    expect(desired(FILE).instances[0]!.users[0]!.password).toBe('app-secret-1');
    expect(() => parseDesiredState(FILE, {})).toThrow(
      /\/instances\/0\/users\/0\/password: environment variable APP_PASSWORD/,
    );
  });
  it('refuses unknown fields and duplicates, naming them', () => {
    expect(() => desired('instances: [{ name: a, zones: [az-1], brokerCont: 3 }]')).toThrow(/brokerCont/);
    expect(() =>
      desired(
        'policies: [{name: p, effect: allow, actions: ["*"], resources: ["*"]}, {name: p, effect: deny, actions: ["*"], resources: ["*"]}]',
      ),
    ).toThrow(/declared twice: policy p/);
    expect(() => desired('instances: [')).toThrow(DesiredStateError);
  });
});

describe('plan', () => {
  it('from nothing: creates, children after their instance, attachments after their policy', () => {
    const p = plan(desired(FILE), empty, { prune: false });
    expect(p.actions.map((a) => `${a.kind} ${a.address}`)).toEqual([
      'create instance.orders',
      'create instance.orders.topic.events',
      'create instance.orders.user.app',
      'create instance.orders.acl[User:app/topic/literal/events/read/allow/*]',
      'create policy.deployers',
      'create subAccount.ci',
    ]);
    expect(p.actions[1]!.dependsOn).toEqual(['instance.orders']);
    expect(p.actions[5]!.dependsOn).toEqual(['policy.deployers']);
  });

  it('in sync: no actions', () => {
    expect(plan(desired(FILE), inSync, { prune: false })).toEqual({ actions: [], unmanaged: [] });
  });

  it('updates show field diffs; growing partitions is an update, shrinking forces replacement', () => {
    const drifted = {
      ...inSync,
      instances: [
        instance({
          deletionProtection: true,
          spec: { bandwidthMBps: 40, diskGiB: 2, partitionLimit: 400 },
          topics: [{ name: 'events', partitions: 2, replicationFactor: 1, configs: { 'retention.ms': '1' } }],
        }),
      ],
    };
    const p = plan(desired(FILE), drifted, { prune: false });
    expect(p.actions.map((a) => `${a.kind} ${a.address}`)).toEqual([
      'update instance.orders',
      'update instance.orders.topic.events',
    ]);
    expect(p.actions[0]!.changes).toEqual([
      { path: 'deletionProtection', from: true, to: false },
      { path: 'spec.diskGiB', from: 2, to: 1 },
    ]);
    expect(p.actions[1]!.dependsOn).toEqual(['instance.orders']);
    const shrink = plan(
      desired(FILE),
      {
        ...inSync,
        instances: [
          instance({
            topics: [
              { name: 'events', partitions: 6, replicationFactor: 1, configs: { 'retention.ms': '60000' } },
            ],
          }),
        ],
      },
      { prune: false },
    );
    expect(shrink.actions[0]).toMatchObject({
      kind: 'replace',
      changes: [{ path: 'partitions', from: 6, to: 3, forcesReplacement: true }],
    });
  });

  it('a config key removed from the file removes the override; one added through REST is drift', () => {
    const withoutRetention = desired(FILE.replace(', configs: { retention.ms: "60000" }', ''));
    const p = plan(withoutRetention, inSync, { prune: false });
    expect(p.actions.map((a) => `${a.kind} ${a.address}`)).toEqual(['update instance.orders.topic.events']);
    expect(p.actions[0]!.changes).toEqual([{ path: 'configs.retention.ms', from: '60000', to: null }]);
    expect(planText(p)).toContain('configs.retention.ms: "60000" → (none)');
    const extra = plan(
      desired(FILE),
      {
        ...inSync,
        instances: [
          instance({
            topics: [
              {
                name: 'events',
                partitions: 3,
                replicationFactor: 1,
                configs: { 'retention.ms': '60000', 'cleanup.policy': 'compact' },
              },
            ],
          }),
        ],
      },
      { prune: false },
    );
    expect(extra.actions[0]!.changes).toEqual([
      { path: 'configs.cleanup.policy', from: 'compact', to: null },
    ]);
  });

  it('a zone change replaces the instance and recreates everything it holds', () => {
    const p = plan(
      desired(FILE),
      { ...inSync, instances: [instance({ zones: ['az-2'] })] },
      { prune: false },
    );
    expect(p.actions.map((a) => `${a.kind} ${a.address}`)).toEqual([
      'replace instance.orders',
      'create instance.orders.topic.events',
      'create instance.orders.user.app',
      'create instance.orders.acl[User:app/topic/literal/events/read/allow/*]',
    ]);
    expect(planText(p)).toContain('zones: ["az-2"] → ["az-1"]   # forces replacement');
  });

  it('a changed policy is replaced and re-attached to its sub-accounts', () => {
    const p = plan(
      desired(FILE),
      { ...inSync, policies: [{ ...inSync.policies[0]!, effect: 'deny' }] },
      { prune: false },
    );
    expect(p.actions.map((a) => `${a.kind} ${a.address}`)).toEqual([
      'replace policy.deployers',
      'update subAccount.ci',
    ]);
    expect(p.actions[1]!.target).toMatchObject({ attach: ['deployers'], detach: [] });
    expect(p.actions[1]!.dependsOn).toEqual(['policy.deployers']);
  });

  it('deletes what the file leaves out only with prune; service ACLs and users are never touched', () => {
    const extra = {
      ...inSync,
      instances: [
        instance({
          topics: [...instance().topics, { name: 'stray', partitions: 1, replicationFactor: 1, configs: {} }],
          users: [...instance().users, { name: 'fjord-admin', mechanisms: ['SCRAM-SHA-512'] }],
          acls: [
            ...instance().acls,
            {
              resourceType: 'topic',
              resourceName: '*',
              patternType: 'literal',
              principal: 'User:ANONYMOUS',
              host: '*',
              operation: 'all',
              permission: 'allow',
            },
          ],
        }),
        instance({ id: 'ins-0000000000000002', name: 'legacy', topics: [] }),
      ],
    };
    const kept = plan(desired(FILE), extra, { prune: false });
    expect(kept.actions).toEqual([]);
    expect(kept.unmanaged).toEqual(['instance.orders.topic.stray', 'instance.legacy']);
    const pruned = plan(desired(FILE), extra, { prune: true });
    expect(pruned.actions.map((a) => `${a.kind} ${a.address}`)).toEqual([
      'delete instance.orders.topic.stray',
      'delete instance.legacy',
    ]);
  });

  it('never shows a password', () => {
    const text = planText(plan(desired(FILE), empty, { prune: false }));
    expect(text).toContain('password: (sensitive)');
    expect(text).not.toContain('app-secret-1');
    expect(text).toContain('Plan: 6 to create, 0 to update, 0 to replace, 0 to delete.');
  });

  it('refuses a sub-account naming a policy that exists nowhere', () => {
    expect(() =>
      plan(desired('subAccounts: [{ name: ci, policies: [nope] }]'), empty, { prune: false }),
    ).toThrow(PlanError);
  });

  it('destroy deletes what the file declares; an instance takes its children along', () => {
    expect(planDestroy(desired(FILE), inSync).actions.map((a) => `${a.kind} ${a.address}`)).toEqual([
      'delete instance.orders',
      'delete subAccount.ci',
      'delete policy.deployers',
    ]);
    expect(planDestroy(desired(FILE), empty).actions).toEqual([]);
  });
});
