import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RestClient } from '@fjord/test-support/api';
import { startTestService, type TestService, waitForOperation } from '@fjord/test-support/service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
let s: TestService;

beforeAll(async () => {
  s = await startTestService(3);
}, 120_000);
afterAll(() => s?.close());

let caFile = '';

function kcat(bootstrap: string, user: string, password: string, args: string[], input?: string) {
  const p = run(
    'kcat',
    [
      '-b',
      bootstrap,
      '-X',
      'security.protocol=SASL_SSL',
      '-X',
      `ssl.ca.location=${caFile}`,
      '-X',
      'sasl.mechanisms=SCRAM-SHA-512',
      '-X',
      `sasl.username=${user}`,
      '-X',
      `sasl.password=${password}`,
      '-m',
      '10',
      ...args,
    ],
    { timeout: 20_000 },
  );
  if (input !== undefined) {
    p.child.stdin?.write(input);
    p.child.stdin?.end();
  }
  return p;
}

describe('a tenant from sign-up to producing over SASL_SSL with ACLs, through REST and real clients', () => {
  it('account, sub-account with a policy, key, token, instance, user, topic, ACL, produce and consume', async () => {
    const { client: root, accountId } = await s.t.tenant('journey');
    // A sub-account that may only look at instances and manage topics named app-*.
    const sub = (await root.call('POST', '/v1/sub-accounts', { name: 'app-team' })).body;
    const policy = (
      await root.call('POST', '/v1/policies', {
        name: 'app-topics',
        effect: 'allow',
        actions: [
          'kafka:DescribeInstance',
          'kafka:ListInstances',
          'kafka:*Topic*',
          'kafka:DescribeOperation',
        ],
        resources: ['instance/*'],
      })
    ).body;
    expect((await root.call('PUT', `/v1/sub-accounts/${sub.id}/policies/${policy.id}`)).status).toBe(204);
    const key = (await root.call('POST', '/v1/api-keys', { subAccountId: sub.id })).body;
    const app: RestClient = await s.t.anonymous.login(key.id, key.secret);

    const created = await root.call('POST', '/v1/instances', {
      name: 'shop',
      zones: ['az-1', 'az-2', 'az-3'],
      brokerCount: 3,
    });
    const id = created.body.instance.id;
    expect((await waitForOperation(root, created.body.operation.id)).status).toBe('succeeded');
    const ins = (await app.call('GET', `/v1/instances/${id}`)).body;
    expect(ins.accountId).toBe(accountId);
    caFile = join(s.dataDir, 'ca.pem');
    writeFileSync(caFile, ins.caBundle);
    const publicRoute = ins.bootstrapServers
      .find((b: { route: string }) => b.route === 'public')
      .servers.split(',')[0];

    // The sub-account may create topics but not users or instances.
    const topic = await app.call('POST', `/v1/instances/${id}/topics`, { name: 'app-orders', partitions: 2 });
    expect(topic.status).toBe(202);
    expect((await waitForOperation(app, topic.body.operation.id)).status).toBe('succeeded');
    expect(
      (await app.call('POST', `/v1/instances/${id}/users`, { name: 'x', password: 'password-x' })).status,
    ).toBe(403);
    expect(
      (await app.call('POST', '/v1/instances', { name: 'nope', zones: ['az-1'], brokerCount: 1 })).status,
    ).toBe(403);
    expect((await app.call('DELETE', `/v1/instances/${id}`)).status).toBe(403);

    const user = await root.call('POST', `/v1/instances/${id}/users`, {
      name: 'shop-app',
      password: 'shop-app-secret',
    });
    expect(user.status).toBe(202);
    expect((await waitForOperation(root, user.body.operation.id)).status).toBe('succeeded');

    // Authenticated but no ACL yet: refused.
    await expect(
      kcat(publicRoute, 'shop-app', 'shop-app-secret', ['-t', 'app-orders', '-P'], 'refused\n'),
    ).rejects.toThrow();

    for (const operation of ['write', 'read', 'describe']) {
      const acl = await root.call('POST', `/v1/instances/${id}/acls`, {
        resourceType: 'topic',
        resourceName: 'app-',
        patternType: 'prefixed',
        principal: 'User:shop-app',
        operation,
      });
      expect(acl.status).toBe(202);
      expect((await waitForOperation(root, acl.body.operation.id)).status).toBe('succeeded');
    }
    const groupAcl = await root.call('POST', `/v1/instances/${id}/acls`, {
      resourceType: 'group',
      resourceName: '*',
      principal: 'User:shop-app',
      operation: 'read',
    });
    expect((await waitForOperation(root, groupAcl.body.operation.id)).status).toBe('succeeded');
    const acls = (await root.call('GET', `/v1/instances/${id}/acls?principal=User:shop-app`)).body.items;
    expect(acls).toHaveLength(4);

    await kcat(
      publicRoute,
      'shop-app',
      'shop-app-secret',
      ['-t', 'app-orders', '-P', '-p', '0'],
      'one\ntwo\nthree\n',
    );
    const consumed = await kcat(publicRoute, 'shop-app', 'shop-app-secret', [
      '-t',
      'app-orders',
      '-C',
      '-p',
      '0',
      '-o',
      'beginning',
      '-e',
    ]);
    expect(consumed.stdout.trim().split('\n')).toEqual(['one', 'two', 'three']);
    // A wrong password is refused outright.
    await expect(kcat(publicRoute, 'shop-app', 'wrong-password', ['-L'])).rejects.toThrow();
  }, 180_000);
});
