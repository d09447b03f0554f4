import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fjordClient,
  type Output,
  observeFor,
  parseDesiredState,
  passwordVariable,
  plan,
  runApply,
} from '@fjord/cli';
import type { RestClient } from '@fjord/test-support/api';
import { connectorApiOverrides } from '@fjord/test-support/connect';
import { startTestService, type TestService, waitForOperation } from '@fjord/test-support/service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `fjord plan / apply / destroy / import` as a user runs them (the built CLI, its own credentials
 * file) against the real API, worker, zone agent and a 1-broker instance.
 */
const CLI = join(import.meta.dirname, '../../apps/cli/dist/main.js');
const PASSWORD = 'app-password-never-shown';
const S3_SECRET = 's3-secret-never-shown';

let s: TestService;
let client: RestClient;
let dir: string;
let env: NodeJS.ProcessEnv;
let token: () => Promise<string>;

function fjord(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 240_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const fileWith = (instance: string) => `
instances:
  - name: shop
    zones: [az-1]
    brokerCount: 1
    spec: { diskGiB: 1 }
    defaultReplicationFactor: 1
${instance}
    topics:
      - { name: orders, partitions: 2, configs: { retention.ms: "3600000" } }
      - { name: audit, partitions: 1 }
    users:
      - { name: app, password: "\${env:APP_PASSWORD}" }
    acls:
      - { resourceType: topic, resourceName: orders, principal: "User:app", operation: write }
      - { resourceType: group, resourceName: billing-, patternType: prefixed, principal: "User:app", operation: read }
    alarmPolicies:
      - { name: lag, metric: group.lag, comparison: ">", threshold: 1000 }
    connectors:
      - name: archive
        type: s3-sink
        config: { topics: [orders], bucket: archive, endpoint: "http://127.0.0.1:9", forcePathStyle: true }
        secrets: { accessKeyId: "\${env:S3_KEY}", secretAccessKey: "\${env:S3_SECRET}" }
policies:
  - { name: topic-admins, effect: allow, actions: ["kafka:CreateTopic", "kafka:DeleteTopic"], resources: ["instance/*"] }
subAccounts:
  - { name: ci, policies: [topic-admins] }
`;
const BASE = fileWith('    deletionProtection: false');

beforeAll(async () => {
  // Its connector's endpoint is on loopback (nothing dials it here).
  s = await startTestService(1, {}, connectorApiOverrides);
  const tenant = await s.t.tenant('declarative');
  client = tenant.client;
  dir = mkdtempSync(join(tmpdir(), 'fjord-cli-'));
  env = {
    ...process.env,
    FJORD_CONFIG: join(dir, 'credentials.json'),
    APP_PASSWORD: PASSWORD,
    S3_KEY: 'AKIDEXAMPLE',
    S3_SECRET,
  };
  const login = await fjord('login', '--api', s.t.api.url, '--key', tenant.keyId, '--secret', tenant.secret);
  expect(login.code, login.stderr).toBe(0);
  token = async () =>
    (await client.call('POST', '/v1/auth/token', { keyId: tenant.keyId, secret: tenant.secret })).body
      .accessToken;
  writeFileSync(join(dir, 'fjord.yaml'), BASE);
}, 120_000);
afterAll(async () => {
  await s?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const io = () => {
  const lines = { out: [] as string[], err: [] as string[] };
  const output: Output = { out: (t) => lines.out.push(t), err: (t) => lines.err.push(t) };
  return { lines, output };
};

describe('cancelling a pending create', () => {
  it('DELETE while the instance is being created cancels the create; the worker removes what it started', async () => {
    const created = await client.call('POST', '/v1/instances', {
      name: 'doomed',
      zones: ['az-1'],
      brokerCount: 1,
      spec: { diskGiB: 1 },
    });
    expect(created.status).toBe(202);
    const id = created.body.instance.id;
    // Cancel once the create has started its broker (a process to clean up), before it is ready.
    const opPath = `/v1/operations/${created.body.operation.id}`;
    for (;;) {
      const op = (await client.call('GET', opPath)).body;
      expect(op.status, 'the create finished before it could be cancelled').not.toBe('succeeded');
      if ('start-broker-1' in op.progress) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await s.agents[0]!.processes.list()).filter((b) => b.instanceId === id)).toHaveLength(1);
    const deleted = await client.call('DELETE', `/v1/instances/${id}`);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(202);
    expect((await waitForOperation(client, deleted.body.operation.id, 180_000)).status).toBe('succeeded');
    const create = await waitForOperation(client, created.body.operation.id);
    expect(create).toMatchObject({ status: 'failed', error: { code: 'cancelled' } });
    expect((await client.call('GET', `/v1/instances/${id}`)).status).toBe(404);
    expect((await s.agents[0]!.processes.list()).filter((b) => b.instanceId === id)).toEqual([]);
  }, 240_000);
});

describe('fjord plan / apply / destroy', () => {
  it('apply from nothing, then the plan is empty (exit 0); the password is never printed', async () => {
    const file = join(dir, 'fjord.yaml');
    const planned = await fjord('plan', '-f', file, '--detailed-exitcode');
    expect(planned.code, planned.stderr).toBe(2);
    expect(planned.stdout).toContain('Plan: 10 to create, 0 to update, 0 to replace, 0 to delete.');
    const applied = await fjord('apply', '-f', file, '--auto-approve');
    expect(applied.code, applied.stderr).toBe(0);
    expect(`${applied.stdout}${applied.stderr}`).not.toContain(PASSWORD);
    expect(`${applied.stdout}${applied.stderr}`).not.toContain(S3_SECRET);
    expect(applied.stdout).toContain('password: (sensitive)');
    // The plan checks the file's password and secrets with the API: they match.
    const again = await fjord('plan', '-f', file, '--detailed-exitcode');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('No changes');
    // A password or secret changed only in the file is drift, never shown.
    const rotated = 'rotated-password-never-shown';
    const saved = env;
    env = { ...env, APP_PASSWORD: rotated, S3_SECRET: 'rotated-s3-secret' };
    const drift = await fjord('plan', '-f', file, '--detailed-exitcode');
    env = saved;
    expect(drift.code, drift.stdout + drift.stderr).toBe(2);
    expect(drift.stdout).toContain('~ instance.shop.user.app (update)');
    expect(drift.stdout).toContain('~ instance.shop.connector.archive (update)');
    expect(drift.stdout).toContain('Plan: 0 to create, 2 to update, 0 to replace, 0 to delete.');
    expect(drift.stdout).not.toContain(rotated);
    // Each check is audited with its outcome, never the password.
    const shop = (await client.call('GET', '/v1/instances?name=shop')).body.items[0];
    const checks = (
      await client.call('GET', `/v1/audit-events?resource=instance/${shop.id}/user/app`)
    ).body.items.filter((e: { action: string }) => e.action === 'VerifyUserPassword');
    expect(checks.map((e: { details: { matches: boolean } }) => e.details.matches)).toEqual(
      expect.arrayContaining([true, false]),
    );
    expect(JSON.stringify(checks)).not.toContain(rotated);
    // What apply made is what the API shows.
    const ins = (await client.call('GET', '/v1/instances?name=shop')).body.items[0];
    const topics = (await client.call('GET', `/v1/instances/${ins.id}/topics`)).body.items;
    expect(
      topics.map((t: { name: string; partitions: number }) => `${t.name}/${t.partitions}`).sort(),
    ).toEqual(['audit/1', 'orders/2']);
    const users = (await client.call('GET', `/v1/instances/${ins.id}/users`)).body.items;
    expect(users.map((u: { name: string }) => u.name)).toContain('app');
  }, 300_000);

  it('a change made through REST shows as drift (exit 2) and apply puts it back', async () => {
    const file = join(dir, 'fjord.yaml');
    const ins = (await client.call('GET', '/v1/instances?name=shop')).body.items[0];
    const patched = await client.call('PATCH', `/v1/instances/${ins.id}/topics/orders`, {
      configs: { 'retention.ms': '60000', 'retention.bytes': '1000000' },
    });
    expect((await waitForOperation(client, patched.body.operation.id)).status).toBe('succeeded');
    const connector = (await client.call('GET', `/v1/instances/${ins.id}/connectors`)).body.items[0];
    const repatched = await client.call('PATCH', `/v1/instances/${ins.id}/connectors/${connector.id}`, {
      config: { ...connector.config, rollSeconds: 30 },
    });
    expect(repatched.status, JSON.stringify(repatched.body)).toBe(200);
    const drift = await fjord('plan', '-f', file, '--detailed-exitcode');
    expect(drift.code, drift.stderr).toBe(2);
    expect(drift.stdout).toContain('~ instance.shop.topic.orders (update)');
    expect(drift.stdout).toContain('configs.retention.ms: "60000" → "3600000"');
    // A config the file does not have is removed (the broker default applies again).
    expect(drift.stdout).toContain('configs.retention.bytes: "1000000" → (none)');
    expect(drift.stdout).toContain('config.rollSeconds: 30 → 600');
    expect((await fjord('apply', '-f', file, '--auto-approve')).code).toBe(0);
    expect((await fjord('plan', '-f', file, '--detailed-exitcode')).code).toBe(0);
    const orders = (await client.call('GET', `/v1/instances/${ins.id}/topics/orders`)).body;
    expect(orders.configs).toEqual({ 'retention.ms': '3600000' });
    // More tasks re-deal partitions: apply pauses the running connector, changes it and resumes it.
    const api = fjordClient(s.t.api.url, token);
    const wider = parseDesiredState(BASE.replace('type: s3-sink', 'type: s3-sink\n        tasksMax: 2'), env);
    const out = io();
    expect(await runApply(api, wider, {}, out.output)).toBe(0);
    expect(out.lines.out.join('\n')).toContain('tasksMax: 1 → 2');
    const after = (await client.call('GET', `/v1/instances/${ins.id}/connectors/${connector.id}`)).body;
    expect(after).toMatchObject({ tasksMax: 2, desiredState: 'RUNNING' });
    const actions = (
      await client.call('GET', `/v1/audit-events?resource=instance/${ins.id}/connector/archive`)
    ).body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['PauseConnector', 'ModifyConnector', 'ResumeConnector']));
  }, 300_000);

  it('two applies planned from the same state: one wins, the other gets the 412 and plans again', async () => {
    const api = fjordClient(s.t.api.url, token);
    const a = parseDesiredState(fileWith('    deletionProtection: true'), env);
    const b = parseDesiredState(
      fileWith('    spec: { diskGiB: 1, bandwidthMBps: 50 }').replace('    spec: { diskGiB: 1 }\n', ''),
      env,
    );
    const seen = await observeFor(api, a, false);
    const planA = plan(a, seen, { prune: false });
    const planB = plan(b, seen, { prune: false });
    expect(planA.actions.map((x) => x.address)).toEqual(['instance.shop']);
    expect(planB.actions.map((x) => x.address)).toEqual(['instance.shop']);
    const first = io();
    expect(await runApply(api, a, {}, first.output, { plan: planA, observed: seen })).toBe(0);
    const second = io();
    expect(await runApply(api, b, {}, second.output, { plan: planB, observed: seen })).toBe(1);
    expect(second.lines.err.join('\n')).toMatch(/instance\.shop: changed since it was planned \(412/);
    // The new plan is made from what the winner left: B would change the spec only.
    const replanned = second.lines.out.at(-1)!;
    expect(replanned).toContain('spec.bandwidthMBps: 40 → 50');
    expect(replanned).not.toContain('deletionProtection');
    const ins = (await client.call('GET', '/v1/instances?name=shop')).body.items[0];
    expect(ins).toMatchObject({ deletionProtection: true, spec: { bandwidthMBps: 40 } });
  }, 300_000);

  it('import writes a file whose plan is empty; passwords become environment references', async () => {
    const imported = await fjord('import', '--instance', 'shop');
    expect(imported.code, imported.stderr).toBe(0);
    const variable = passwordVariable('shop', 'app');
    expect(imported.stdout).toContain(`\${env:${variable}}`);
    expect(imported.stdout).not.toContain(PASSWORD);
    writeFileSync(join(dir, 'imported.yaml'), imported.stdout);
    expect(imported.stdout).not.toContain(S3_SECRET);
    env = {
      ...env,
      [variable]: PASSWORD,
      FJORD_SECRET_SHOP_ARCHIVE_ACCESSKEYID: 'AKIDEXAMPLE',
      FJORD_SECRET_SHOP_ARCHIVE_SECRETACCESSKEY: S3_SECRET,
    };
    const p = await fjord('plan', '-f', join(dir, 'imported.yaml'), '--detailed-exitcode');
    expect(p.code, p.stdout + p.stderr).toBe(0);
  }, 120_000);

  it('one-shot commands: JSON on stdout, --wait ends with the operation, problems on stderr, exit 1', async () => {
    const listed = await fjord('instances', 'list');
    expect(listed.code, listed.stderr).toBe(0);
    const shop = (JSON.parse(listed.stdout) as { items: { id: string; name: string }[] }).items.find(
      (i) => i.name === 'shop',
    )!;
    const created = await fjord(
      'topics',
      'create',
      shop.id,
      'scratch',
      '--partitions',
      '2',
      '--config',
      'retention.ms=60000',
      '--wait',
    );
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ kind: 'topic.create', status: 'succeeded' });
    const got = await fjord('topics', 'get', shop.id, 'scratch');
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({
      name: 'scratch',
      partitions: 2,
      configs: { 'retention.ms': '60000' },
    });
    // The API's problem+json, printed whole on stderr.
    const taken = await fjord('topics', 'create', shop.id, 'scratch');
    expect(taken).toMatchObject({ code: 1, stdout: '' });
    expect(JSON.parse(taken.stderr)).toMatchObject({ status: 409, code: 'name_taken' });
    // A value the schema does not list is refused before anything is sent.
    const unknown = await fjord('metrics', 'query', shop.id, 'group.lagg');
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toMatch(/'group.lagg' is not a metric/);
    const deleted = await fjord('topics', 'delete', shop.id, 'scratch', '--wait');
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(JSON.parse(deleted.stdout)).toMatchObject({ kind: 'topic.delete', status: 'succeeded' });
    const gone = await fjord('topics', 'get', shop.id, 'scratch');
    expect(gone.code).toBe(1);
    expect(JSON.parse(gone.stderr)).toMatchObject({ status: 404 });
  }, 240_000);

  it('destroy deletes what the file declares', async () => {
    const file = join(dir, 'fjord.yaml');
    expect((await fjord('apply', '-f', file, '--auto-approve')).code).toBe(0); // protection off again
    const destroyed = await fjord('destroy', '-f', file, '--auto-approve');
    expect(destroyed.code, destroyed.stderr).toBe(0);
    expect(destroyed.stdout).toContain('- instance.shop (delete)');
    expect((await client.call('GET', '/v1/instances?name=shop')).body.items).toEqual([]);
    expect((await client.call('GET', '/v1/policies')).body.items).toEqual([]);
    const after = await fjord('plan', '-f', file, '--detailed-exitcode');
    expect(after.code).toBe(2);
  }, 300_000);
});
