import { RestClient, startTestApi, type TestApi } from '@fjord/test-support/api';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyStore, LEASE_MS } from '../src/http/idempotency.js';

let t: TestApi;
let operator: RestClient;

beforeAll(async () => {
  t = await startTestApi();
  operator = await t.operator();
  for (const zone of ['az-1', 'az-2', 'az-3', 'az-small'])
    expect(
      (
        await operator.call('PUT', `/v1/zones/${zone}`, {
          capacity: zone === 'az-small' ? 2 : 1000,
          agentUrl: 'http://127.0.0.1:1',
        })
      ).status,
    ).toBe(200);
});
afterAll(() => t?.close());

const problemOf = (r: { headers: Headers; body: { code: string } }) => {
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return r.body.code;
};

describe('authentication', () => {
  it('refuses calls without a token, with a wrong secret, and with a forged token', async () => {
    expect(problemOf(await t.anonymous.call('GET', '/v1/instances'))).toBe('unauthenticated');
    const { keyId } = await t.tenant('auth-a');
    const bad = await t.anonymous.call('POST', '/v1/auth/token', { keyId, secret: 'fjs_wrong' });
    expect(bad.status).toBe(401);
    expect(problemOf(bad)).toBe('invalid_credentials');
    const forged = t.anonymous.withToken('eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ4In0.c2lnbmF0dXJl');
    expect((await forged.call('GET', '/v1/instances')).status).toBe(401);
  });

  it('refuses expired, wrong-audience, wrong-issuer, unsigned and unknown-key tokens', async () => {
    const { accountId } = await t.tenant('auth-c');
    const key = t.config.jwtKeys[0]!;
    const claims = { sub: accountId, typ: 'root', acc: accountId };
    const sign = (opts: jwt.SignOptions, secret = key.secret) =>
      jwt.sign(claims, secret, {
        algorithm: 'HS256',
        keyid: key.kid,
        issuer: 'fjord',
        audience: 'fjord-api',
        expiresIn: 60,
        ...opts,
      });
    const good = sign({});
    expect((await t.anonymous.withToken(good).call('GET', '/v1/instances')).status).toBe(200);
    const bad = [
      jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 10 }, key.secret, {
        algorithm: 'HS256',
        keyid: key.kid,
        issuer: 'fjord',
        audience: 'fjord-api',
      }),
      sign({ audience: 'someone-else' }),
      sign({ issuer: 'evil' }),
      sign({}, 'x'.repeat(40)),
      sign({ keyid: 'k-unknown' }),
      `${Buffer.from('{"alg":"none","kid":"k1"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`,
    ];
    for (const token of bad) {
      const r = await t.anonymous.withToken(token).call('GET', '/v1/instances');
      expect(r.status).toBe(401);
      expect(problemOf(r)).toBe('unauthenticated');
    }
  });

  it('refuses tokens without expiry or valid for longer than the maximum lifetime', async () => {
    const { accountId } = await t.tenant('auth-e');
    const key = t.config.jwtKeys[0]!;
    const claims = { sub: accountId, typ: 'root', acc: accountId };
    const sign = (extra: object, opts: jwt.SignOptions = {}) =>
      jwt.sign({ ...claims, ...extra }, key.secret, {
        algorithm: 'HS256',
        keyid: key.kid,
        issuer: 'fjord',
        audience: 'fjord-api',
        ...opts,
      });
    const max = t.config.tokenMaxLifetimeSeconds;
    const now = Math.floor(Date.now() / 1000);
    const refused = {
      'no exp': sign({}),
      'lifetime above the maximum': sign({}, { expiresIn: max + 60 }),
      'backdated iat, still valid too long from now': sign({ iat: now - 60, exp: now + max + 30 }),
    };
    for (const [why, token] of Object.entries(refused)) {
      const r = await t.anonymous.withToken(token).call('GET', '/v1/instances');
      expect(r.status, why).toBe(401);
      expect(r.body.detail, why).toMatch(/no expiry|exceeds the maximum/);
    }
    expect(
      (await t.anonymous.withToken(sign({}, { expiresIn: max })).call('GET', '/v1/instances')).status,
    ).toBe(200);
  });

  it('key rotation by kid: verify the new key everywhere, then sign with it; old tokens live until they expire', async () => {
    const { keyId, secret } = await t.tenant('auth-d');
    const old = await t.anonymous.login(keyId, secret);
    const k1 = t.config.jwtKeys[0]!;
    const k2 = { kid: 'k2', secret: 'b'.repeat(48) };
    const shared = { databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix };
    // Step 1: a process that verifies k2 but still signs with k1.
    const verifying = await startTestApi({ jwtKeys: [k1, k2], jwtSigningKid: 'k1' }, shared);
    // Step 2: a process that signs with k2.
    const signing = await startTestApi({ jwtKeys: [k1, k2], jwtSigningKid: 'k2' }, shared);
    // Step 3: k1 dropped.
    const retired = await startTestApi({ jwtKeys: [k2] }, shared);
    const kidOf = (token: string) =>
      JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;
    try {
      const fromVerifying = await verifying.anonymous.login(keyId, secret);
      expect(kidOf(fromVerifying.token!)).toBe('k1');
      const fresh = await signing.anonymous.login(keyId, secret);
      expect(kidOf(fresh.token!)).toBe('k2');
      // Tokens of either key work on every process that lists both.
      for (const api of [verifying, signing])
        for (const token of [old.token!, fresh.token!])
          expect((await new RestClient(api.api.url, token).call('GET', '/v1/instances')).status).toBe(200);
      // A process that does not know k2 refuses k2 tokens: why step 1 comes first.
      expect((await t.anonymous.withToken(fresh.token!).call('GET', '/v1/instances')).status).toBe(401);
      // Once k1 is dropped its tokens are refused; k2's still work.
      expect((await new RestClient(retired.api.url, old.token).call('GET', '/v1/instances')).status).toBe(
        401,
      );
      expect((await new RestClient(retired.api.url, fresh.token).call('GET', '/v1/instances')).status).toBe(
        200,
      );
    } finally {
      for (const api of [verifying, signing, retired]) {
        await api.api.close();
        await api.prisma.$disconnect();
      }
    }
  });

  it('a revoked key can no longer be exchanged', async () => {
    const { client, keyId, secret } = await t.tenant('auth-b');
    expect((await client.call('DELETE', `/v1/api-keys/${keyId}`)).status).toBe(204);
    expect((await t.anonymous.call('POST', '/v1/auth/token', { keyId, secret })).status).toBe(401);
  });
});

describe('errors', () => {
  it('validation failures are problem+json with field paths', async () => {
    const { client } = await t.tenant('errors-a');
    const r = await client.call('POST', '/v1/instances', {
      name: 'Bad Name',
      zones: [],
      spec: { diskGiB: -1 },
    });
    expect(r.status).toBe(400);
    expect(problemOf(r)).toBe('validation_failed');
    const paths = r.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/name', '/zones', '/spec/diskGiB']));
    expect(r.body.requestId).toBe(r.headers.get('x-request-id'));
  });

  it('malformed JSON and unknown routes are problems too', async () => {
    const { client } = await t.tenant('errors-b');
    const res = await fetch(`${client.baseUrl}/v1/instances`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${client.token}`,
      },
      body: '{"name":',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    const nf = await client.call('GET', '/v1/nothing-here');
    expect(nf.status).toBe(404);
    expect(problemOf(nf)).toBe('not_found');
  });
});

describe('instances', () => {
  const body = { name: 'orders', zones: ['az-1', 'az-2', 'az-3'] };

  it('create answers 202 with the operation, server defaults explicit, readable at once', async () => {
    const { client, accountId } = await t.tenant('ins-a');
    const r = await client.call('POST', '/v1/instances', body);
    expect(r.status).toBe(202);
    const { instance, operation } = r.body;
    expect(instance).toMatchObject({
      accountId,
      name: 'orders',
      brokerCount: 3,
      spec: { bandwidthMBps: 40, diskGiB: 100, partitionLimit: 400 },
      defaultReplicationFactor: 2,
      kafkaVersion: '3.8',
      status: 'creating',
      deletionProtection: false,
      accessRoutes: [
        { type: 'internal', securityProtocol: 'PLAINTEXT', allowedCidrs: ['0.0.0.0/0', '::/0'] },
        { type: 'public', securityProtocol: 'SASL_SSL', allowedCidrs: ['0.0.0.0/0', '::/0'] },
      ],
      caBundle: null,
    });
    expect(operation).toMatchObject({ kind: 'instance.create', status: 'pending', instanceId: instance.id });
    const got = await client.call('GET', `/v1/instances/${instance.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(instance);
    expect(got.headers.get('etag')).toBe('"1"');
    expect((await client.call('GET', `/v1/operations/${operation.id}`)).body.id).toBe(operation.id);
  });

  it('names are unique per account, not across accounts', async () => {
    const a = await t.tenant('ins-b');
    const b = await t.tenant('ins-c');
    expect((await a.client.call('POST', '/v1/instances', body)).status).toBe(202);
    const dup = await a.client.call('POST', '/v1/instances', body);
    expect(dup.status).toBe(409);
    expect(problemOf(dup)).toBe('name_taken');
    expect((await b.client.call('POST', '/v1/instances', body)).status).toBe(202);
  });

  it('refuses impossible requests up front', async () => {
    const { client } = await t.tenant('ins-d');
    const rf = await client.call('POST', '/v1/instances', { ...body, defaultReplicationFactor: 4 });
    expect(rf.status).toBe(400);
    const small = { name: 'small', zones: ['az-small'], brokerCount: 2 };
    expect((await client.call('POST', '/v1/instances', small)).status).toBe(202);
    // The first instance reserved both slots of az-small.
    const tooMany = await client.call('POST', '/v1/instances', { ...small, name: 'small-2', brokerCount: 1 });
    expect(tooMany.status).toBe(422);
    expect(problemOf(tooMany)).toBe('placement_unsatisfiable');
    const zones = (await client.call('GET', '/v1/zones')).body.items;
    expect(zones.find((z: { name: string }) => z.name === 'az-small')).toEqual({
      name: 'az-small',
      capacity: 2,
      used: 2,
    });
    const zone = await client.call('POST', '/v1/instances', {
      ...body,
      name: 'nowhere',
      zones: ['az-9'],
      brokerCount: 1,
    });
    expect(zone.status).toBe(422);
    expect(zone.body.errors[0].path).toBe('/zones/0');
  });

  it('operations on one instance are serialised: 409 names the operation in the way', async () => {
    const { client } = await t.tenant('ins-e');
    const created = (await client.call('POST', '/v1/instances', body)).body;
    const restart = await client.call('POST', `/v1/instances/${created.instance.id}/restart`);
    expect(restart.status).toBe(409);
    expect(problemOf(restart)).toBe('operation_in_progress');
    expect(restart.body.operationId).toBe(created.operation.id);
  });

  it('DELETE while the instance is being created cancels the create', async () => {
    const { client } = await t.tenant('ins-cancel');
    const created = (await client.call('POST', '/v1/instances', body)).body;
    const del = await client.call('DELETE', `/v1/instances/${created.instance.id}`);
    expect(del.status).toBe(202);
    expect(del.body.operation.kind).toBe('instance.delete');
    expect(del.body.instance.status).toBe('deleting');
    const create = (await client.call('GET', `/v1/operations/${created.operation.id}`)).body;
    expect(create).toMatchObject({ status: 'failed', error: { code: 'cancelled' } });
  });

  it('PATCH is instant, checks If-Match, and deletion protection holds', async () => {
    const { client, accountId } = await t.tenant('ins-f');
    const { instance } = (await client.call('POST', '/v1/instances', { ...body, deletionProtection: true }))
      .body;
    const stale = await client.call(
      'PATCH',
      `/v1/instances/${instance.id}`,
      { name: 'renamed' },
      { 'if-match': '"7"' },
    );
    expect(stale.status).toBe(412);
    // Weak tags promise no exact version: If-Match compares strongly.
    const weak = await client.call(
      'PATCH',
      `/v1/instances/${instance.id}`,
      { name: 'renamed' },
      { 'if-match': 'W/"1"' },
    );
    expect(weak.status).toBe(412);
    const ok = await client.call(
      'PATCH',
      `/v1/instances/${instance.id}`,
      { name: 'renamed' },
      { 'if-match': '"1"' },
    );
    expect(ok.status).toBe(200);
    expect(ok.body.name).toBe('renamed');
    expect(ok.headers.get('etag')).toBe('"2"');
    // If-None-Match on reads: the current tag (weakly compared, or *) answers 304 without a body.
    for (const tag of ['"2"', 'W/"2"', '"1", "2"', '*']) {
      const same = await client.call('GET', `/v1/instances/${instance.id}`, undefined, {
        'if-none-match': tag,
      });
      expect(same.status, tag).toBe(304);
      expect(same.body).toBeUndefined();
      expect(same.headers.get('etag')).toBe('"2"');
    }
    const changed = await client.call('GET', `/v1/instances/${instance.id}`, undefined, {
      'if-none-match': '"1"',
    });
    expect(changed.status).toBe(200);
    expect(changed.body.name).toBe('renamed');
    // Let the create "finish" so delete is not refused for the running create.
    await t.prisma.operation.updateMany({
      where: { instanceId: instance.id },
      data: { status: 'SUCCEEDED' },
    });
    const protectedDel = await client.call('DELETE', `/v1/instances/${instance.id}`);
    expect(problemOf(protectedDel)).toBe('deletion_protected');
    const events = await client.call('GET', `/v1/audit-events?resource=instance/${instance.id}`);
    expect(events.body.items.map((e: { action: string }) => e.action)).toEqual([
      'ModifyInstance',
      'CreateInstance',
    ]);
    expect(events.body.items[0].accountId).toBe(accountId);
  });

  it('Idempotency-Key replays the first response and refuses a different body', async () => {
    const { client } = await t.tenant('ins-g');
    const h = { 'idempotency-key': 'create-once-1' };
    const first = await client.call('POST', '/v1/instances', body, h);
    const again = await client.call('POST', '/v1/instances', body, h);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await client.call('POST', '/v1/instances', { ...body, name: 'other' }, h);
    expect(other.status).toBe(422);
    expect(problemOf(other)).toBe('idempotency_key_reused');
    expect((await client.call('GET', '/v1/instances')).body.items).toHaveLength(1);
  });

  it('an Idempotency-Key claim left by a crashed API process is a lease: 409 with Retry-After, then free', async () => {
    const { client } = await t.tenant('ins-lease');
    const h = { 'idempotency-key': 'lease-1' };
    const nowhere = { ...body, zones: ['az-nowhere'] };
    const first = await client.call('POST', '/v1/instances', nowhere, h);
    expect(first.status).toBe(422);
    // What a process killed mid-request leaves: the claim, pending, its lease still running a moment.
    const leaseEnds = new Date(Date.now() + 1500);
    const claimed = await t.prisma.idempotencyRecord.updateMany({
      where: { key: 'lease-1' },
      data: { response: { pending: true }, expiresAt: leaseEnds },
    });
    expect(claimed.count).toBe(1);
    const busy = await client.call('POST', '/v1/instances', nowhere, h);
    expect(problemOf(busy)).toBe('idempotency_in_progress');
    expect(busy.status).toBe(409);
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, leaseEnds.getTime() - Date.now() + 50));
    const retried = await client.call('POST', '/v1/instances', nowhere, h);
    expect(retried.status).toBe(422);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    // A fresh claim holds for the lease only (renewed while its request runs), not for a day.
    const store = new IdempotencyStore(t.prisma);
    const claim = await store.claim('lease-scope', 'lease-2', 'hash');
    if (claim.kind === 'fresh') claim.release();
    const pending = await t.prisma.idempotencyRecord.findFirstOrThrow({ where: { key: 'lease-2' } });
    expect(pending.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(LEASE_MS);
    // Once answered, the answer is kept for a day, not for the lease.
    const row = await t.prisma.idempotencyRecord.findFirstOrThrow({ where: { key: 'lease-1' } });
    expect(row.expiresAt.getTime() - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
  });

  it('lists page with cursors and filter', async () => {
    const { client } = await t.tenant('ins-h');
    for (let i = 0; i < 5; i++)
      await client.call('POST', '/v1/instances', { name: `p${i}`, zones: ['az-1'], brokerCount: 1 });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { name: string }[]; nextCursor: string | null } } = await client.call(
        'GET',
        `/v1/instances?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.body.items.map((i) => i.name));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(
      (await client.call('GET', '/v1/instances?name=p3')).body.items.map((i: { name: string }) => i.name),
    ).toEqual(['p3']);
    expect((await client.call('GET', '/v1/instances?cursor=garbage')).status).toBe(400);
  });
});

describe('hosts', () => {
  it('operators register hosts; placement fills the emptiest; a drain is refused while it cannot go through', async () => {
    const put = (host: string, body: unknown) =>
      operator.call('PUT', `/v1/zones/az-hosts/hosts/${host}`, body);
    expect((await put('a', { capacity: 1, agentUrl: 'http://127.0.0.1:2' })).body).toEqual({
      zone: 'az-hosts',
      id: 'a',
      agentUrl: 'http://127.0.0.1:2',
      capacity: 1,
      used: 0,
      state: 'active',
    });
    expect((await put('b', { capacity: 2, agentUrl: 'http://127.0.0.1:3' })).status).toBe(200);
    const bad = await put('c', { capacity: -1, agentUrl: 'not a url' });
    expect(bad.status).toBe(400);
    expect(problemOf(bad)).toBe('validation_failed');
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['/agentUrl', '/capacity']);
    expect((await put('Bad_Id', { capacity: 1, agentUrl: 'http://127.0.0.1:4' })).status).toBe(400);
    const { client } = await t.tenant('hosts-a');
    expect(
      (await client.call('PUT', '/v1/zones/az-hosts/hosts/x', { capacity: 9, agentUrl: 'http://x:1' }))
        .status,
    ).toBe(403);
    expect((await client.call('POST', '/v1/zones/az-hosts/hosts/a/drain')).status).toBe(403);
    // The zone's capacity is its hosts': 3.
    const zones = (await client.call('GET', '/v1/zones')).body.items;
    expect(zones.find((z: { name: string }) => z.name === 'az-hosts')).toEqual({
      name: 'az-hosts',
      capacity: 3,
      used: 0,
    });

    const created = await client.call('POST', '/v1/instances', {
      name: 'on-hosts',
      zones: ['az-hosts'],
      brokerCount: 2,
    });
    expect(created.status).toBe(202);
    const hosts = (await operator.call('GET', '/v1/zones/az-hosts/hosts')).body.items;
    expect(hosts.map((h: { id: string; used: number }) => [h.id, h.used])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    // Its create operation still runs (no worker here): the instance's brokers are the flow's.
    const busy = await operator.call('POST', '/v1/zones/az-hosts/hosts/a/drain');
    expect(busy.status).toBe(409);
    expect(problemOf(busy)).toBe('operation_in_progress');
    expect(busy.body.operationId).toBe(created.body.operation.id);
    await t.prisma.operation.update({
      where: { id: created.body.operation.id },
      data: { status: 'SUCCEEDED' },
    });
    // Now a can go: b has a free slot for a's broker.
    const ok = await operator.call('POST', '/v1/zones/az-hosts/hosts/a/drain');
    expect(ok.status).toBe(202);
    expect(ok.body).toMatchObject({ kind: 'host.drain', status: 'pending', instanceId: null, accountId: '' });
    const again = await operator.call('POST', '/v1/zones/az-hosts/hosts/a/drain');
    expect(again.status).toBe(409);
    // b cannot: a is draining, so no other host would take b's broker.
    const refused = await operator.call('POST', '/v1/zones/az-hosts/hosts/b/drain');
    expect(refused.status).toBe(422);
    expect(problemOf(refused)).toBe('unprocessable');
    expect(refused.body.detail).toBe(
      'host b cannot be drained: the zone has no other active host to take its 1 broker(s)',
    );
    // A draining host takes no new brokers: only b's one free slot is left.
    const more = await client.call('POST', '/v1/instances', {
      name: 'more',
      zones: ['az-hosts'],
      brokerCount: 2,
    });
    expect(more.status).toBe(422);
    expect(problemOf(more)).toBe('placement_unsatisfiable');
    expect((await operator.call('POST', '/v1/zones/az-hosts/hosts/zz/drain')).status).toBe(404);
    expect((await operator.call('GET', '/v1/zones/az-none/hosts')).status).toBe(404);
    // The tenant cannot read the operator's operation.
    expect((await client.call('GET', `/v1/operations/${ok.body.id}`)).status).toBe(404);
  });
});

describe('tenant isolation and policies', () => {
  it("another tenant's instance is 404 everywhere; a grant opens what it names", async () => {
    const a = await t.tenant('iso-a');
    const b = await t.tenant('iso-b');
    const { instance, operation } = (
      await a.client.call('POST', '/v1/instances', { name: 'x', zones: ['az-1'], brokerCount: 1 })
    ).body;
    for (const [m, path] of [
      ['GET', `/v1/instances/${instance.id}`],
      ['PATCH', `/v1/instances/${instance.id}`],
      ['DELETE', `/v1/instances/${instance.id}`],
      ['GET', `/v1/operations/${operation.id}`],
      ['GET', `/v1/instances/${instance.id}/topics`],
    ] as const) {
      const r = await b.client.call(m, path, m === 'PATCH' ? { name: 'y' } : undefined);
      expect(r.status, `${m} ${path}`).toBe(404);
    }
    expect((await b.client.call('GET', '/v1/instances')).body.items).toEqual([]);
    const grant = await a.client.call('POST', '/v1/grants', {
      granteeAccountId: b.accountId,
      actions: ['kafka:DescribeInstance', 'kafka:ListInstances'],
      resources: [`instance/*`],
    });
    expect(grant.status).toBe(201);
    expect((await b.client.call('GET', `/v1/instances/${instance.id}`)).status).toBe(200);
    expect((await b.client.call('GET', `/v1/instances?accountId=${a.accountId}`)).body.items).toHaveLength(1);
    expect((await b.client.call('DELETE', `/v1/instances/${instance.id}`)).status).toBe(404);
  });

  it('a sub-account can do what its policies allow, explicit deny wins', async () => {
    const root = await t.tenant('pol-a');
    const sub = (await root.client.call('POST', '/v1/sub-accounts', { name: 'dev' })).body;
    const again = await root.client.call('POST', '/v1/sub-accounts', { name: 'dev' });
    expect(again.status).toBe(409);
    expect(problemOf(again)).toBe('name_taken');
    const allow = (
      await root.client.call('POST', '/v1/policies', {
        name: 'instances',
        effect: 'allow',
        actions: ['kafka:*Instance*'],
        resources: ['instance/*'],
      })
    ).body;
    const deny = (
      await root.client.call('POST', '/v1/policies', {
        name: 'no-delete',
        effect: 'deny',
        actions: ['kafka:DeleteInstance'],
        resources: ['*'],
      })
    ).body;
    for (const pol of [allow, deny])
      expect((await root.client.call('PUT', `/v1/sub-accounts/${sub.id}/policies/${pol.id}`)).status).toBe(
        204,
      );
    const key = (await root.client.call('POST', '/v1/api-keys', { subAccountId: sub.id })).body;
    const dev = await t.anonymous.login(key.id, key.secret);
    const created = await dev.call('POST', '/v1/instances', {
      name: 'dev-1',
      zones: ['az-1'],
      brokerCount: 1,
    });
    expect(created.status).toBe(202);
    await t.prisma.operation.updateMany({
      where: { instanceId: created.body.instance.id },
      data: { status: 'SUCCEEDED' },
    });
    const del = await dev.call('DELETE', `/v1/instances/${created.body.instance.id}`);
    expect(del.status).toBe(403);
    expect(problemOf(del)).toBe('forbidden');
    expect((await dev.call('POST', '/v1/sub-accounts', { name: 'escalate' })).status).toBe(403);
    expect((await dev.call('POST', '/v1/api-keys', {})).status).toBe(403);
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After once the bucket is empty', async () => {
    const limited = await startTestApi(
      { ratePerSecond: 1, burst: 3 },
      { databaseUrl: t.databaseUrl, queuePrefix: t.queuePrefix },
    );
    try {
      const { keyId, secret } = await t.tenant('rl-a');
      const c = await limited.anonymous.login(keyId, secret);
      const statuses: number[] = [];
      let last: Awaited<ReturnType<RestClient['call']>> | undefined;
      for (let i = 0; i < 5; i++) {
        last = await c.call('GET', '/v1/instances');
        statuses.push(last.status);
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(last!.status).toBe(429);
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(last!.headers.get('ratelimit-remaining')).toBe('0');
    } finally {
      await limited.api.close();
      await limited.prisma.$disconnect();
    }
  });
});

describe('OpenAPI', () => {
  it('serves an OpenAPI 3.1 document and browsable docs', async () => {
    const doc = await t.anonymous.call('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/v1/instances', '/v1/instances/{instanceId}/topics']),
    );
    const html = await fetch(`${t.api.url}/docs/`);
    expect(html.status).toBe(200);
  });
});
