import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { launchChromium } from '@fjord/test-support/browser';
import { startTestService, type TestService } from '@fjord/test-support/service';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
// With FJORD_CONSOLE_SCREENSHOTS=1 the test also rewrites the README's screenshots.
const SHOTS = process.env.FJORD_CONSOLE_SCREENSHOTS
  ? resolve(import.meta.dirname, '../../docs/console')
  : undefined;
// Generous: instance creation starts three brokers on a busy 2-core machine; progress is watched.
const READY_MS = 240_000;

let s: TestService;
let browser: Browser;
type Tenant = Awaited<ReturnType<TestService['t']['tenant']>>;
let a: Tenant;
let b: Tenant;
let c: Tenant;

beforeAll(async () => {
  // 62 s tokens: the console exchanges its key again once less than 60 s are left, so after 2 s
  // every call goes through a refresh (the journey below runs on refreshed tokens).
  [s, browser] = await Promise.all([startTestService(3, {}, { tokenTtlSeconds: 62 }), launchChromium()]);
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  // Made now: the harness's operator token lives 62 s too.
  a = await s.t.tenant('console-a');
  b = await s.t.tenant('console-b');
  c = await s.t.tenant('console-c');
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

async function shot(page: Page, name: string) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

async function signIn(page: Page, keyId: string, secret: string) {
  await page.goto(`${s.t.api.url}/console/`);
  await page.getByLabel('API key id').fill(keyId);
  await page.getByLabel('Secret').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Instances' }).waitFor();
}

describe('the web console, in Chromium against the real API, worker and brokers', () => {
  it('is served by the API under /console/ with its own origin only; a missing file is a problem', async () => {
    const index = await fetch(`${s.t.api.url}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const asset = html.match(/\/console\/assets\/[^"]+\.js/)?.[0];
    const js = await fetch(`${s.t.api.url}${asset}`);
    expect(js.headers.get('cache-control')).toContain('immutable');
    const bare = await fetch(`${s.t.api.url}/console`, { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([301, '/console/']);
    const missing = await fetch(`${s.t.api.url}/console/assets/nothing.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
  });

  it('signs in, creates an instance and a topic, produces and browses a message; another tenant sees none of it', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });

    // A wrong secret: the API's problem, as it words it.
    await page.goto(`${s.t.api.url}/console/`);
    await shot(page, 'sign-in');
    await page.getByLabel('API key id').fill(a.keyId);
    await page.getByLabel('Secret').fill('fjs_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('invalid_credentials');

    await signIn(page, a.keyId, a.secret);
    await page.getByRole('button', { name: 'Create instance' }).click();
    const form = page.getByRole('form', { name: 'Create instance' });
    await form.getByLabel('Name', { exact: true }).fill('web');
    for (const zone of ['az-1', 'az-2', 'az-3']) await form.getByRole('checkbox', { name: zone }).check();
    await form.getByLabel('Brokers', { exact: true }).fill('3');
    await form.getByRole('button', { name: 'Create', exact: true }).click();
    const progress = form.getByRole('status');
    await progress.getByText('instance.create').waitFor();
    await shot(page, 'instance-create');
    await progress.locator('.op-status', { hasText: 'succeeded' }).waitFor({ timeout: READY_MS });

    await form.getByRole('button', { name: 'Open instance' }).click();
    await page.locator('h1 .badge', { hasText: 'running' }).waitFor();
    const internal = await page.locator('code.bootstrap[data-route="internal"]').textContent();
    expect(internal).toMatch(/^127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){2}$/);
    await page.getByRole('heading', { name: 'az-3' }).waitFor();
    await shot(page, 'instance');
    const instanceUrl = page.url();

    await page.getByRole('link', { name: 'Topics' }).click();
    const create = page.getByRole('form', { name: 'Create topic' });
    // Bad input: the field the API names.
    await create.getByLabel('Topic name').fill('not a topic!');
    await create.getByRole('button', { name: 'Create topic' }).click();
    await expect(create.getByRole('alert').textContent()).resolves.toContain('/name');
    await create.getByLabel('Topic name').fill('orders');
    await create.getByLabel('Partitions').fill('3');
    await create.getByRole('button', { name: 'Create topic' }).click();
    await create
      .getByRole('status')
      .locator('.op-status', { hasText: 'succeeded' })
      .waitFor({ timeout: 60_000 });
    await page.getByRole('link', { name: 'orders', exact: true }).waitFor({ timeout: 30_000 });
    await shot(page, 'topics');
    await page.getByRole('link', { name: 'orders', exact: true }).click();

    const produce = page.getByRole('form', { name: 'Produce a test message' });
    await produce.getByLabel('Key').fill('k1');
    await produce.getByLabel('Value').fill('hello from the console');
    await produce.getByRole('button', { name: 'Produce' }).click();
    await produce
      .getByRole('status')
      .getByText('Produced to partition 0 at offset 0.', { exact: true })
      .waitFor();

    const browse = page.getByRole('form', { name: 'Browse messages' });
    await browse.getByRole('combobox', { name: 'From' }).selectOption('offset');
    await browse.getByLabel('Offset', { exact: true }).fill('0');
    await browse.getByRole('button', { name: 'Browse' }).click();
    const row = page.getByRole('table', { name: 'Messages' }).getByRole('row').nth(1);
    await expect(row.textContent()).resolves.toContain('hello from the console');
    await shot(page, 'messages');

    // Topic configs and partitions, edited in place.
    await page.getByLabel('Configs (one key=value a line)').fill('retention.ms=3600000');
    await page.getByRole('button', { name: 'Save configs' }).click();
    await page
      .getByRole('status')
      .locator('.op-status', { hasText: 'succeeded' })
      .waitFor({ timeout: 60_000 });
    await page.getByLabel('Partitions (may only grow)').fill('4');
    await page.getByRole('button', { name: 'Add partitions' }).click();
    await page.getByText('4 partitions, replication factor 2, active').waitFor({ timeout: 60_000 });
    await expect(page.getByLabel('Configs (one key=value a line)').inputValue()).resolves.toBe(
      'retention.ms=3600000',
    );

    // A real Kafka client reads what the console produced, from the bootstrap string it showed.
    const { stdout } = await run(
      'kcat',
      ['-b', internal!, '-C', '-t', 'orders', '-p', '0', '-o', '0', '-c', '1', '-e', '-f', '%k=%s\n'],
      { timeout: 30_000 },
    );
    expect(stdout.trim()).toBe('k1=hello from the console');

    // A consumer group that read that message, then one more produced: lag 1 on partition 0.
    await run(
      'kcat',
      [
        '-b',
        internal!,
        '-G',
        'console-readers',
        '-X',
        'auto.offset.reset=earliest',
        '-c',
        '1',
        '-q',
        'orders',
      ],
      { timeout: 60_000 },
    );
    await produce.getByLabel('Value').fill('second');
    await produce.getByRole('button', { name: 'Produce' }).click();
    await produce
      .getByRole('status')
      .getByText('Produced to partition 0 at offset 1.', { exact: true })
      .waitFor();
    await page.getByRole('link', { name: 'Consumer groups' }).click();
    await page.getByRole('link', { name: 'console-readers' }).click();
    const lagRow = page
      .getByRole('row')
      .filter({ hasText: 'orders' })
      .filter({ has: page.locator('td.lag') })
      .first();
    await expect
      .poll(() => lagRow.locator('td').allTextContents(), { timeout: 30_000 })
      .toEqual(['orders', '0', '1', '2', '1']);
    // Reset to earliest: the preview shows where the committed offset goes, then the reset moves it.
    const reset = page.getByRole('form', { name: 'Reset offsets' });
    await reset.getByRole('combobox', { name: 'Reset to' }).selectOption('earliest');
    await reset.getByRole('button', { name: 'Preview' }).click();
    await expect
      .poll(() => lagRow.locator('td').allTextContents(), { timeout: 30_000 })
      .toEqual(['orders', '0', '1', '2', '1', '0']);
    await shot(page, 'consumer-group');
    await reset.getByRole('button', { name: 'Reset offsets' }).click();
    await page
      .getByRole('status')
      .locator('.op-status', { hasText: 'succeeded' })
      .waitFor({ timeout: 60_000 });
    await lagRow.locator('td.lag', { hasText: '2' }).waitFor({ timeout: 30_000 });
    await page.goto(`${s.t.api.url}/console/#/access`);
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    // A sub-account and a key for it, made in the console: the secret is shown once.
    await page.getByLabel('Sub-account name').fill('app-team');
    await page.getByRole('button', { name: 'Create sub-account' }).click();
    await page.getByRole('listitem').filter({ hasText: 'app-team' }).first().waitFor();
    await shot(page, 'access'); // before a secret is on screen
    const keyForm = page.getByRole('form', { name: 'Create API key' });
    await keyForm.getByRole('combobox', { name: 'For' }).selectOption({ label: 'app-team' });
    await keyForm.getByRole('button', { name: 'Create API key' }).click();
    await page.getByRole('status').filter({ hasText: 'shown once' }).getByText(/^fjs_/).waitFor();
    await page.goto(`${s.t.api.url}/console/#/audit`);
    await page.getByRole('cell', { name: 'ExchangeToken' }).first().waitFor();
    await shot(page, 'audit');

    // A second tenant: no instances, and the first tenant's instance is not found.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, b.keyId, b.secret);
    await page.getByText('No instances yet.').waitFor();
    await page.goto(instanceUrl);
    await expect(page.getByRole('alert').first().textContent()).resolves.toContain('not_found');
    await page.goto(`${s.t.api.url}/console/#/operations`);
    await page.getByText('No operations.').waitFor();

    // Back as the owner: delete the instance, which wants its name typed first.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, a.keyId, a.secret);
    await page.goto(instanceUrl);
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.getByRole('button', { name: 'Delete' }).isDisabled()).resolves.toBe(true);
    await dialog.getByLabel('Type web to confirm').fill('web');
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No instances yet.').waitFor({ timeout: 120_000 });
    await page.close();
  }, 420_000);

  it('signs out, saying why, when the key is revoked and its token is due for a refresh', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await signIn(page, c.keyId, c.secret);
    const root = await s.t.anonymous.login(c.keyId, c.secret);
    expect((await root.call('DELETE', `/v1/api-keys/${c.keyId}`)).status).toBe(204);
    await new Promise((r) => setTimeout(r, 2500)); // past the refresh point of the 62 s token
    await page.getByRole('link', { name: 'Operations' }).click();
    await page.getByText('Your session expired: the key was refused.').waitFor();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.close();
  });
});
