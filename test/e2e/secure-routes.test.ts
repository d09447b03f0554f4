import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { instanceAdminCredential } from '@fjord/fleet';
import { type RestClient, TEST_ADMIN_SECRET } from '@fjord/test-support/api';
import { makePki } from '@fjord/test-support/certs';
import { startTestService, type TestService, waitForOperation } from '@fjord/test-support/service';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENTS, type ClientSecurity } from '../compat/clients.js';

const run = promisify(execFile);
let s: TestService;
let root: RestClient;
let id: string;
let caFile: string;
let publicServers: string;

const USER = 'edge-app';
const CLIENT_NAMES = ['kcat', 'confluent-kafka-python', 'kafkajs', 'sarama'] as const;
const topicOf = (client: string) => `edge-${client.replace(/[^a-z]/g, '')}`;
const PASSWORD = 'edge-app-secret';

beforeAll(async () => {
  s = await startTestService(3);
  root = (await s.t.tenant('secure')).client;
  const created = await root.call('POST', '/v1/instances', {
    name: 'edge',
    zones: ['az-1', 'az-2', 'az-3'],
    brokerCount: 3,
  });
  expect(created.status).toBe(202);
  id = created.body.instance.id;
  expect((await waitForOperation(root, created.body.operation.id, 120_000)).status).toBe('succeeded');
  const user = await root.call('POST', `/v1/instances/${id}/users`, { name: USER, password: PASSWORD });
  expect((await waitForOperation(root, user.body.operation.id)).status).toBe('succeeded');
  for (const [resourceType, resourceName, operation] of [
    ['topic', 'edge-', 'all'],
    ['group', '*', 'read'],
  ] as const) {
    const acl = await root.call('POST', `/v1/instances/${id}/acls`, {
      resourceType,
      resourceName,
      patternType: resourceType === 'topic' ? 'prefixed' : 'literal',
      principal: `User:${USER}`,
      operation,
    });
    expect((await waitForOperation(root, acl.body.operation.id)).status).toBe('succeeded');
  }
  // Managed instances do not create topics on first use.
  for (const name of CLIENT_NAMES) {
    const topic = await root.call('POST', `/v1/instances/${id}/topics`, {
      name: topicOf(name),
      partitions: 1,
    });
    expect((await waitForOperation(root, topic.body.operation.id)).status).toBe('succeeded');
  }
  const ins = (await root.call('GET', `/v1/instances/${id}`)).body;
  caFile = join(s.dataDir, 'instance-ca.pem');
  writeFileSync(caFile, ins.caBundle);
  publicServers = ins.bootstrapServers.find((b: { route: string }) => b.route === 'public').servers;
}, 240_000);
afterAll(() => s?.close());

const security = (ca = caFile): ClientSecurity => ({
  protocol: 'SASL_SSL',
  mechanism: 'SCRAM-SHA-512',
  username: USER,
  password: PASSWORD,
  ca,
});

function kcat(args: string[], settings: Record<string, string>) {
  return run(
    'kcat',
    ['-b', publicServers, ...Object.entries(settings).flatMap(([k, v]) => ['-X', `${k}=${v}`]), ...args],
    { timeout: 30_000 },
  );
}

describe('a managed instance public route: SASL_SSL with the deployment CA', () => {
  it('the instance view names the protocol and the CA bundle to trust, and no key material', async () => {
    const r = await root.call('GET', `/v1/instances/${id}`);
    expect(r.body.accessRoutes).toEqual([
      { type: 'internal', securityProtocol: 'PLAINTEXT', allowedCidrs: ['0.0.0.0/0', '::/0'] },
      { type: 'public', securityProtocol: 'SASL_SSL', allowedCidrs: ['0.0.0.0/0', '::/0'] },
    ]);
    expect(r.body.bootstrapServers.map((b: { securityProtocol: string }) => b.securityProtocol)).toEqual([
      'PLAINTEXT',
      'SASL_SSL',
    ]);
    expect(r.body.caBundle).toMatch(/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\n$/);
    // The bundle is a CA (openssl reads it), and the brokers' certificates chain to it.
    const { stdout } = await run('openssl', [
      'x509',
      '-noout',
      '-subject',
      '-ext',
      'basicConstraints',
      '-in',
      caFile,
    ]);
    expect(stdout).toMatch(/CA:TRUE/);
    expect(JSON.stringify(r.body)).not.toMatch(/PRIVATE KEY/);
  });

  for (const name of CLIENT_NAMES) {
    it(`${name} produces and consumes, trusting only the returned CA bundle`, async () => {
      const client = CLIENTS.find((c) => c.name.startsWith(name))!;
      const topic = topicOf(name);
      const p = await client.run(publicServers, ['produce', topic, '20', 'none', 'false'], security());
      expect(p.acked).toBe(20);
      const c = await client.run(publicServers, ['consume', topic, `g-${topic}`, '20', '3000'], security());
      expect(c.records).toHaveLength(20);
    }, 180_000);
  }

  it('plaintext and SASL without TLS are refused on the public route', async () => {
    await expect(kcat(['-L', '-m', '10'], { 'security.protocol': 'PLAINTEXT' })).rejects.toThrow();
    await expect(
      kcat(['-L', '-m', '10'], {
        'security.protocol': 'SASL_PLAINTEXT',
        'sasl.mechanisms': 'SCRAM-SHA-512',
        'sasl.username': USER,
        'sasl.password': PASSWORD,
      }),
    ).rejects.toThrow();
  }, 60_000);

  it('a client trusting another CA refuses the brokers', async () => {
    const other = makePki();
    await expect(
      kcat(['-L', '-m', '10'], {
        'security.protocol': 'SASL_SSL',
        'sasl.mechanisms': 'SCRAM-SHA-512',
        'sasl.username': USER,
        'sasl.password': PASSWORD,
        'ssl.ca.location': other.ca,
      }),
    ).rejects.toThrow(/certificate verify failed|SSL handshake failed/);
  }, 60_000);

  it('the brokers keep their keys in owner-only files that no command line or environment names', async () => {
    const pids: number[] = [];
    for (const agent of s.agents)
      for (const b of await agent.processes.list()) {
        if (b.pid) pids.push(b.pid);
        const tls = join(b.dataDir, '..', 'tls');
        expect(statSync(tls).mode & 0o777).toBe(0o700);
        const files = readdirSync(tls);
        expect(files.some((f) => /^public-[0-9a-f]+\.pem$/.test(f))).toBe(true);
        for (const f of files) expect(statSync(join(tls, f)).mode & 0o777).toBe(0o600);
      }
    expect(pids.length).toBe(3);
    const admin = instanceAdminCredential(id, TEST_ADMIN_SECRET).password;
    for (const pid of pids)
      for (const text of [
        readFileSync(`/proc/${pid}/cmdline`, 'utf8'),
        readFileSync(`/proc/${pid}/environ`, 'utf8'),
      ])
        for (const secret of ['PRIVATE KEY', 'BEGIN CERTIFICATE', admin, PASSWORD])
          expect(text).not.toContain(secret);
  });
});
