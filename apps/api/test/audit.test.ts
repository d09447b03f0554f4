import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type ChainedAuditEvent, verifyAuditChain } from '@fjord/contracts';
import { type RestClient, startTestApi, type TestApi } from '@fjord/test-support/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = resolve(import.meta.dirname, '../../cli/dist/main.js');

interface Event {
  id: string;
  accountId: string | null;
  actor: string;
  action: string;
  resource: string;
  outcome: string;
  at: string;
  details: Record<string, unknown>;
}

let t: TestApi;
let operator: RestClient;

beforeAll(async () => {
  t = await startTestApi();
  operator = await t.operator();
});
afterAll(() => t?.close());

const events = async (client: RestClient, query = ''): Promise<Event[]> => {
  const r = await client.call('GET', `/v1/audit-events?limit=100${query}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.items;
};

const exportOf = async (client: RestClient, query = ''): Promise<ChainedAuditEvent[]> => {
  const r = await fetch(`${client.baseUrl}/v1/audit-events/export${query}`, {
    headers: { authorization: `Bearer ${client.token}` },
  });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
  return (await r.text())
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ChainedAuditEvent);
};

describe('audit events', () => {
  it('ids count per account from 1, whatever other accounts do', async () => {
    const a = await t.tenant('ids-a');
    await a.client.call('POST', '/v1/policies', {
      name: 'p1',
      effect: 'allow',
      actions: ['*'],
      resources: ['*'],
    });
    const b = await t.tenant('ids-b');
    // Each account's chain: CreateAccount, CreateApiKey (by the operator), ExchangeToken, ...
    expect((await events(b.client)).map((e) => [e.id, e.action]).reverse()).toEqual([
      ['1', 'CreateAccount'],
      ['2', 'CreateApiKey'],
      ['3', 'ExchangeToken'],
    ]);
    expect((await events(a.client)).map((e) => e.id).reverse()).toEqual(['1', '2', '3', '4']);
  });

  it('token exchanges are recorded, succeeded and denied; refused calls (403) are recorded as denied', async () => {
    const root = await t.tenant('outcomes');
    const wrong = await t.anonymous.call('POST', '/v1/auth/token', {
      keyId: root.keyId,
      secret: 'fjs_wrong',
    });
    expect(wrong.status).toBe(401);
    const sub = (await root.client.call('POST', '/v1/sub-accounts', { name: 'nobody' })).body;
    const key = (await root.client.call('POST', '/v1/api-keys', { subAccountId: sub.id })).body;
    const dev = await t.anonymous.login(key.id, key.secret);
    const refused = await dev.call('POST', '/v1/policies', {
      name: 'mine',
      effect: 'allow',
      actions: ['*'],
      resources: ['*'],
    });
    expect(refused.status).toBe(403);

    const all = await events(root.client);
    const exchanges = all.filter((e) => e.action === 'ExchangeToken');
    expect(exchanges.map((e) => [e.outcome, e.resource, e.details.reason ?? null])).toEqual([
      ['succeeded', `apikey/${key.id}`, null],
      ['denied', `apikey/${root.keyId}`, 'wrong secret'],
      ['succeeded', `apikey/${root.keyId}`, null],
    ]);
    const denied = all.filter((e) => e.outcome === 'denied' && e.action !== 'ExchangeToken');
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ actor: `subaccount/${sub.id}`, action: 'iam:CreatePolicy' });
    expect((await events(root.client, '&outcome=denied')).length).toBe(2);
    expect(all.filter((e) => e.action === 'CreateSubAccount')[0]!.outcome).toBe('succeeded');
    // An unknown key id belongs to no account: the platform chain, which operators export.
    await t.anonymous.call('POST', '/v1/auth/token', { keyId: 'key-00000000000000000000', secret: 'fjs_x' });
    const platform = await exportOf(operator);
    expect(platform.at(-1)).toMatchObject({ action: 'ExchangeToken', outcome: 'denied', accountId: null });
    expect(verifyAuditChain(platform)).toMatchObject({ ok: true });
  });

  it('filters by time range and refuses an empty one', async () => {
    const { client } = await t.tenant('times');
    const all = await events(client);
    const cut = all[0]!.at; // the newest
    const ids = (list: Event[]) => list.map((e) => e.id);
    expect(ids(await events(client, `&from=${encodeURIComponent(cut)}`))).toEqual(
      ids(all.filter((e) => e.at >= cut)),
    );
    expect(ids(await events(client, `&to=${encodeURIComponent(cut)}`))).toEqual(
      ids(all.filter((e) => e.at < cut)),
    );
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect(await events(client, `&from=${encodeURIComponent(future)}`)).toEqual([]);
    const backwards = await client.call(
      'GET',
      `/v1/audit-events?from=${future}&to=${encodeURIComponent(cut)}`,
    );
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors[0].path).toBe('query/from');
    expect(
      (await exportOf(client, `?from=${encodeURIComponent(cut)}`)).map((e) => e.id),
      'the export takes the same range',
    ).toEqual(ids(all.filter((e) => e.at >= cut)).reverse());
  });

  it('pages with cursors, within an account and across accounts', async () => {
    const { client } = await t.tenant('paging');
    for (const name of ['p1', 'p2', 'p3', 'p4'])
      await client.call('POST', '/v1/policies', { name, effect: 'allow', actions: ['*'], resources: ['*'] });
    const pages = async (c: RestClient, first: string) => {
      const seen: string[] = [];
      let url: string | null = first;
      while (url) {
        const r: { body: { items: Event[]; nextCursor: string | null } } = await c.call('GET', url);
        seen.push(...r.body.items.map((e) => `${e.accountId}/${e.id}`));
        url = r.body.nextCursor ? `${first}&cursor=${r.body.nextCursor}` : null;
      }
      return seen;
    };
    const all = (await events(client)).map((e) => `${e.accountId}/${e.id}`);
    expect(all).toHaveLength(7);
    expect(await pages(client, '/v1/audit-events?limit=2')).toEqual(all);
    const everyAccount = (await events(operator)).map((e) => `${e.accountId}/${e.id}`);
    // The first 100 of every account's events, newest first; paging walks the same order.
    expect((await pages(operator, '/v1/audit-events?limit=3')).slice(0, everyAccount.length)).toEqual(
      everyAccount,
    );
    expect((await client.call('GET', '/v1/audit-events?cursor=garbage')).status).toBe(400);
  });

  it('concurrent writers in one account keep one unbroken chain', async () => {
    const { client } = await t.tenant('concurrent');
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        client.call('POST', '/v1/policies', {
          name: `c${i}`,
          effect: 'allow',
          actions: ['*'],
          resources: ['*'],
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 201));
    const chain = await exportOf(client);
    expect(chain.map((e) => e.id)).toEqual(chain.map((_, i) => String(i + 1)));
    expect(chain.filter((e) => e.action === 'CreatePolicy')).toHaveLength(24);
    expect(verifyAuditChain(chain)).toEqual({ ok: true, events: chain.length, legacy: 0 });
  });
});

describe('fjord audit verify', () => {
  it('passes on the exported chain and names the first event altered or removed in PostgreSQL', async () => {
    const tenant = await t.tenant('verify');
    for (const name of ['a', 'b', 'c'])
      await tenant.client.call('POST', '/v1/policies', {
        name,
        effect: 'allow',
        actions: ['*'],
        resources: ['*'],
      });
    const dir = mkdtempSync(join(tmpdir(), 'fjord-cli-'));
    const env = { ...process.env, FJORD_CONFIG: join(dir, 'credentials.json') };
    const fjord = (...args: string[]) =>
      run(process.execPath, [CLI, ...args], { env }).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
    try {
      expect(
        (await fjord('login', '--api', t.api.url, '--key', tenant.keyId, '--secret', tenant.secret)).code,
      ).toBe(0);
      const good = await fjord('audit', 'verify');
      expect(good.out).toMatch(/events verified/);
      expect(good.code).toBe(0);

      await t.prisma.$executeRaw`UPDATE "AuditEvent" SET "details" = '{"name":"z"}'
        WHERE "chain" = ${tenant.accountId} AND "seq" = 5`;
      const altered = await fjord('audit', 'verify');
      expect(altered.code).toBe(1);
      expect(altered.out).toMatch(/broken at event 5: .*altered/);

      await t.prisma.$executeRaw`DELETE FROM "AuditEvent" WHERE "chain" = ${tenant.accountId} AND "seq" = 5`;
      const removed = await fjord('audit', 'verify');
      expect(removed.code).toBe(1);
      expect(removed.out).toMatch(/broken at event 6: .*missing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
