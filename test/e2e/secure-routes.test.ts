import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { instanceAdminCredential } from '@fjord/fleet';
import { type RestClient, TEST_ADMIN_SECRET } from '@fjord/test-support/api';
import { makePki } from '@fjord/test-support/certs';
import {
  AGENT_SECRET,
  startTestService,
  type TestService,
  waitForOperation,
} from '@fjord/test-support/service';
import kafkajs from 'kafkajs';
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

/** Broker certificates live 2 minutes here, so the rotation (at two thirds) happens during the run. */
const CERT_LIFETIME_MS = 120_000;
let early: TLSSocket;
let earlySerial: string;

beforeAll(async () => {
  s = await startTestService(3, {
    FJORD_BROKER_CERT_LIFETIME_MS: String(CERT_LIFETIME_MS),
    FJORD_CERT_CHECK_MS: '2000',
  });
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
  // A connection opened now, before any rotation: it must outlive the certificate it was served.
  early = await tlsTo(firstPublic(), '127.0.0.1');
  earlySerial = early.getPeerCertificate().serialNumber;
}, 240_000);
afterAll(async () => {
  early?.destroy();
  await s?.close();
});

const firstPublic = () => {
  const [host, port] = publicServers.split(',')[0]!.split(':');
  return { host: host!, port: Number(port) };
};

/** A TLS connection trusting only the instance's CA, from `localAddress`. */
function tlsTo(to: { host: string; port: number }, localAddress: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      socket: netConnect({ ...to, localAddress }),
      host: to.host,
      ca: readFileSync(caFile),
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before the TLS handshake')));
  });
}

/**
 * The bytes a TLS client sends first (its ClientHello), captured from node's TLS client talking to a
 * throw-away TCP server.
 */
async function clientHello(): Promise<Buffer> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const first = new Promise<Buffer>((resolve) =>
    server.once('connection', (c) =>
      c.once('data', (d: Buffer) => {
        c.destroy();
        resolve(d);
      }),
    ),
  );
  const client = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  client.on('error', () => {});
  const hello = await first;
  client.destroy();
  server.close();
  return hello;
}

/**
 * What a connection from `localAddress` gets for its ClientHello: `refused` when the broker closes
 * it without sending a byte, `answered` when TLS answers (a ServerHello).
 */
async function helloFrom(
  to: { host: string; port: number },
  localAddress: string,
): Promise<'refused' | 'answered'> {
  const hello = await clientHello();
  return new Promise((resolve) => {
    const socket = netConnect({ ...to, localAddress });
    let bytes = 0;
    socket.once('connect', () => socket.write(hello));
    socket.on('data', (d: Buffer) => {
      bytes += d.length;
      socket.destroy();
    });
    socket.on('error', () => {});
    socket.once('close', () => resolve(bytes > 0 ? 'answered' : 'refused'));
  });
}

/** ApiVersions v0 on an open connection: the answer's correlation id. */
function apiVersions(socket: TLSSocket, correlationId: number): Promise<number> {
  const frame = Buffer.alloc(14);
  frame.writeInt32BE(10, 0);
  frame.writeInt16BE(18, 4);
  frame.writeInt16BE(0, 6);
  frame.writeInt32BE(correlationId, 8);
  frame.writeInt16BE(-1, 12);
  return new Promise((resolve, reject) => {
    socket.once('data', (d: Buffer) => resolve(d.readInt32BE(4)));
    socket.once('error', reject);
    socket.write(frame);
  });
}

async function brokerPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const agent of s.agents) for (const b of await agent.processes.list()) if (b.pid) pids.push(b.pid);
  return pids.sort();
}

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
        for (const secret of [
          'PRIVATE KEY',
          'BEGIN CERTIFICATE',
          admin,
          PASSWORD,
          TEST_ADMIN_SECRET,
          AGENT_SECRET,
        ])
          expect(text).not.toContain(secret);
    // Brokers get none of their agent's environment but the basics (the agent holds the agent secret).
    const names = readFileSync(`/proc/${pids[0]}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((e) => e.split('=')[0]);
    expect(
      names.every((n) =>
        ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'NODE_OPTIONS', 'FJORD_LOG_LEVEL'].includes(n!),
      ),
    ).toBe(true);
  });
});

describe('certificate rotation', () => {
  it('renews every broker certificate before it expires, without restarts; open connections stay', async () => {
    const pids = await brokerPids();
    let fresh: TLSSocket | undefined;
    const deadline = Date.now() + CERT_LIFETIME_MS;
    while (Date.now() < deadline) {
      fresh = await tlsTo(firstPublic(), '127.0.0.1');
      if (fresh.getPeerCertificate().serialNumber !== earlySerial) break;
      fresh.destroy();
      fresh = undefined;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(fresh, "a new certificate served within its predecessor's lifetime").toBeDefined();
    fresh!.destroy();
    // The connection opened before the rotation still works, with the certificate it was served.
    expect(early.destroyed).toBe(false);
    expect(await apiVersions(early, 4242)).toBe(4242);
    expect(early.getPeerCertificate().serialNumber).toBe(earlySerial);
    expect(await brokerPids()).toEqual(pids);
  }, 200_000);
});

describe('routes change after create', () => {
  it('an allowlist change is live: refused sources are closed before TLS, no broker restarts', async () => {
    const pids = await brokerPids();
    expect(await helloFrom(firstPublic(), '127.0.0.1')).toBe('answered');
    const put = await root.call('PUT', `/v1/instances/${id}/routes/public`, {
      allowedCidrs: ['127.0.0.2/32'],
    });
    expect(put.status).toBe(202);
    expect((await waitForOperation(root, put.body.operation.id, 120_000)).status).toBe('succeeded');
    for (const server of publicServers.split(',')) {
      const [host, port] = server.split(':');
      const to = { host: host!, port: Number(port) };
      expect(await helloFrom(to, '127.0.0.1')).toBe('refused');
      (await tlsTo(to, '127.0.0.2')).destroy();
    }
    expect(await brokerPids()).toEqual(pids);
    // The same body again is no change: 200, no operation, the ETag as it was.
    const settled = await root.call('GET', `/v1/instances/${id}`);
    const again = await root.call('PUT', `/v1/instances/${id}/routes/public`, {
      allowedCidrs: ['127.0.0.2/32'],
    });
    expect(again.status).toBe(200);
    expect(again.headers.get('etag')).toBe(settled.headers.get('etag'));
    expect((await root.call('GET', `/v1/instances/${id}`)).headers.get('etag')).toBe(
      settled.headers.get('etag'),
    );
    const back = await root.call('PUT', `/v1/instances/${id}/routes/public`, {});
    expect((await waitForOperation(root, back.body.operation.id, 120_000)).status).toBe('succeeded');
    expect(await helloFrom(firstPublic(), '127.0.0.1')).toBe('answered');
  }, 300_000);

  it('refuses what cannot be: a bad CIDR names the field, the last route stays', async () => {
    const bad = await root.call('PUT', `/v1/instances/${id}/routes/internal`, {
      allowedCidrs: ['10.0.0.0/33'],
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('allowedCidrs');
    const plain = await root.call('PUT', `/v1/instances/${id}/routes/public`, {
      securityProtocol: 'SASL_PLAINTEXT',
    });
    expect(plain.status).toBe(400);
  });

  it('PLAINTEXT VPC clients are ANONYMOUS with topic and group rights, not a super user', async () => {
    const ins = (await root.call('GET', `/v1/instances/${id}`)).body;
    const internal = ins.bootstrapServers.find((b: { route: string }) => b.route === 'internal').servers;
    const anon = (args: string[], input?: string) => {
      const p = run('kcat', ['-b', internal, '-m', '15', ...args], { timeout: 30_000 });
      if (input !== undefined) p.child.stdin?.end(input);
      return p;
    };
    await anon(['-t', topicOf('kcat'), '-P', '-p', '0'], 'from the vpc\n');
    const { stdout } = await anon(['-t', topicOf('kcat'), '-C', '-p', '0', '-o', '-1', '-e']);
    expect(stdout.trim()).toBe('from the vpc');
    const grants = (await root.call('GET', `/v1/instances/${id}/acls?principal=User:ANONYMOUS`)).body.items;
    expect(grants.length).toBeGreaterThan(0);
    expect(
      grants.some(
        (a: { operation: string; resourceType: string }) =>
          a.resourceType === 'cluster' && a.operation === 'alter',
      ),
    ).toBe(false);
    // Creating an ACL takes CLUSTER Alter, which ANONYMOUS does not have.
    const kafka = new kafkajs.Kafka({ brokers: internal.split(','), logLevel: kafkajs.logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await expect(
        admin.createAcls({
          acl: [
            {
              resourceType: kafkajs.AclResourceTypes.TOPIC,
              resourceName: 'x',
              resourcePatternType: kafkajs.ResourcePatternTypes.LITERAL,
              principal: 'User:ANONYMOUS',
              host: '*',
              operation: kafkajs.AclOperationTypes.ALL,
              permissionType: kafkajs.AclPermissionTypes.ALLOW,
            },
          ],
        }),
      ).rejects.toThrow(/authoriz/i);
    } finally {
      await admin.disconnect();
    }
  }, 120_000);

  it("the replication listener refuses clients without the brokers' credential", async () => {
    const placements = (await s.agents[0]!.processes.list())[0]!;
    const replication = `127.0.0.1:${placements.ports.REPLICATION}`;
    await expect(
      run('kcat', ['-b', replication, '-L', '-m', '10', '-X', 'security.protocol=PLAINTEXT'], {
        timeout: 30_000,
      }),
    ).rejects.toThrow();
  }, 60_000);

  it('a protocol change rolls the brokers: the VPC route becomes SASL_SSL and ANONYMOUS loses its grants', async () => {
    const put = await root.call('PUT', `/v1/instances/${id}/routes/internal`, {
      securityProtocol: 'SASL_SSL',
    });
    expect(put.status).toBe(202);
    expect(put.body.instance.status).toBe('restarting');
    expect((await waitForOperation(root, put.body.operation.id, 300_000)).status).toBe('succeeded');
    const ins = (await root.call('GET', `/v1/instances/${id}`)).body;
    expect(ins.status).toBe('running');
    const internal = ins.bootstrapServers.find((b: { route: string }) => b.route === 'internal');
    expect(internal.securityProtocol).toBe('SASL_SSL');
    const client = CLIENTS.find((c) => c.name.startsWith('kcat'))!;
    const c = await client.run(
      internal.servers,
      ['consume', topicOf('kcat'), 'g-after-roll', '21', '3000'],
      security(),
    );
    expect(c.records).toHaveLength(21);
    await expect(
      run('kcat', ['-b', internal.servers, '-L', '-m', '10'], { timeout: 30_000 }),
    ).rejects.toThrow();
    expect((await root.call('GET', `/v1/instances/${id}/acls?principal=User:ANONYMOUS`)).body.items).toEqual(
      [],
    );
  }, 400_000);

  it('mutual TLS on the public route: clients with a certificate from the tenant CA, named by CN', async () => {
    const pki = makePki();
    const put = await root.call('PUT', `/v1/instances/${id}/routes/public`, {
      securityProtocol: 'SSL',
      clientCaBundle: readFileSync(pki.ca, 'utf8'),
    });
    expect(put.status).toBe(202);
    expect((await waitForOperation(root, put.body.operation.id, 300_000)).status).toBe('succeeded');
    const route = (await root.call('GET', `/v1/instances/${id}`)).body.bootstrapServers.find(
      (b: { route: string }) => b.route === 'public',
    );
    expect(route.securityProtocol).toBe('SSL');
    for (const operation of ['read', 'describe'] as const) {
      const acl = await root.call('POST', `/v1/instances/${id}/acls`, {
        resourceType: 'topic',
        resourceName: topicOf('kcat'),
        principal: 'User:mtls-app',
        operation,
      });
      expect((await waitForOperation(root, acl.body.operation.id)).status).toBe('succeeded');
    }
    const client = pki.client('mtls-app');
    const mtls = (extra: string[]) =>
      run(
        'kcat',
        ['-b', route.servers, '-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${caFile}`, ...extra],
        { timeout: 30_000 },
      );
    const { stdout } = await mtls([
      '-X',
      `ssl.certificate.location=${client.cert}`,
      '-X',
      `ssl.key.location=${client.key}`,
      '-C',
      '-t',
      topicOf('kcat'),
      '-o',
      'beginning',
      '-c',
      '21',
      '-e',
    ]);
    expect(stdout.trim().split('\n')).toHaveLength(21);
    // No certificate, or one the tenant CA did not sign: refused in the handshake.
    await expect(mtls(['-L', '-m', '10'])).rejects.toThrow();
    await expect(
      mtls([
        '-X',
        `ssl.certificate.location=${pki.rogue.cert}`,
        '-X',
        `ssl.key.location=${pki.rogue.key}`,
        '-L',
        '-m',
        '10',
      ]),
    ).rejects.toThrow();
  }, 400_000);
});
