import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type RestClient, startTestApi, type TestApi } from '@fjord/test-support/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BOOTSTRAP = resolve(import.meta.dirname, '../dist/cli/bootstrap.js');
let t: TestApi;
let operator: RestClient;

beforeAll(async () => {
  t = await startTestApi();
  operator = await t.operator();
});
afterAll(() => t?.close());

describe('operator keys', () => {
  it('are listed, created (secret once) and revoked; a revoked key gets no token; the last one stays', async () => {
    const created = await operator.call('POST', '/v1/operator-keys', { name: 'oncall' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'oncall', revokedAt: null });
    const listed = await operator.call('GET', '/v1/operator-keys');
    expect(listed.body.items.map((k: { id: string }) => k.id)).toContain(created.body.id);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret);

    const oncall = await t.anonymous.login(created.body.id, created.body.secret);
    expect((await oncall.call('GET', '/v1/operator-keys')).status).toBe(200);
    expect((await operator.call('DELETE', `/v1/operator-keys/${created.body.id}`)).status).toBe(204);
    const refused = await t.anonymous.call('POST', '/v1/auth/token', {
      keyId: created.body.id,
      secret: created.body.secret,
    });
    expect(refused.status).toBe(401);
    const after = (await operator.call('GET', '/v1/operator-keys')).body.items.find(
      (k: { id: string }) => k.id === created.body.id,
    );
    expect(after.revokedAt).not.toBeNull();

    // Revoke every other active key; the last one is refused, so operators are never locked out.
    const active = (await operator.call('GET', '/v1/operator-keys')).body.items.filter(
      (k: { revokedAt: string | null }) => k.revokedAt === null,
    );
    for (const k of active.slice(1)) await operator.call('DELETE', `/v1/operator-keys/${k.id}`);
    const last = await operator.call('DELETE', `/v1/operator-keys/${active[0].id}`);
    expect(last.status).toBe(422);
  });

  it('are for operators only', async () => {
    const { client } = await t.tenant('not-an-operator');
    expect((await client.call('GET', '/v1/operator-keys')).status).toBe(403);
    expect((await client.call('POST', '/v1/operator-keys', { name: 'x' })).status).toBe(403);
  });

  it('`npm run service` set-up reuses its keys across restarts, kept owner-only', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fjord-bootstrap-')), 'bootstrap.json');
    const env = { ...process.env, DATABASE_URL: t.databaseUrl, FJORD_BOOTSTRAP_FILE: file };
    await run(process.execPath, [BOOTSTRAP, t.api.url, 'az-boot=http://127.0.0.1:1'], { env });
    const first = JSON.parse(readFileSync(file, 'utf8'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const keysBefore = await t.prisma.operatorKey.count();
    const { stdout } = await run(process.execPath, [BOOTSTRAP, t.api.url, 'az-boot=http://127.0.0.1:1'], {
      env,
    });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(first);
    expect(await t.prisma.operatorKey.count()).toBe(keysBefore);
    expect(await t.prisma.apiKey.count({ where: { accountId: first.accountId } })).toBe(1);
    expect(stdout).toContain(first.apiKeyId);
  }, 60_000);
});
