import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { launchChromium } from '@fjord/test-support/browser';
import { type MonitoredService, startMonitoredService } from '@fjord/test-support/monitoring';
import { waitForOperation } from '@fjord/test-support/service';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SHOTS = process.env.FJORD_CONSOLE_SCREENSHOTS
  ? resolve(import.meta.dirname, '../../docs/console')
  : undefined;

let s: MonitoredService;
let browser: Browser;
let tenant: { keyId: string; secret: string };
let instanceId: string;
let bootstrap: string;

beforeAll(async () => {
  [s, browser] = await Promise.all([startMonitoredService(1), launchChromium()]);
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  const t = await s.t.tenant('console-watcher');
  tenant = t;
  const created = await t.client.call('POST', '/v1/instances', {
    name: 'watched',
    zones: ['az-1'],
    brokerCount: 1,
  });
  instanceId = created.body.instance.id;
  expect((await waitForOperation(t.client, created.body.operation.id, 180_000)).status).toBe('succeeded');
  const ins = (await t.client.call('GET', `/v1/instances/${instanceId}`)).body;
  bootstrap = ins.bootstrapServers.find((b: { route: string }) => b.route === 'internal').servers;
  const topic = await t.client.call('POST', `/v1/instances/${instanceId}/topics`, {
    name: 'events',
    partitions: 1,
  });
  expect((await waitForOperation(t.client, topic.body.operation.id)).status).toBe('succeeded');
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
});

async function kcat(args: string[], input?: string) {
  const p = run('kcat', ['-b', bootstrap, '-m', '15', ...args], { timeout: 60_000 });
  if (input !== undefined) {
    p.child.stdin?.write(input);
    p.child.stdin?.end();
  }
  return p;
}

async function shot(page: Page, name: string) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

describe('the console with the monitoring stack (Prometheus, Alertmanager)', () => {
  it('charts what kcat produced and shows the lag alarm a policy made in the console fires', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${s.t.api.url}/console/`);
    await page.getByLabel('API key id').fill(tenant.keyId);
    await page.getByLabel('Secret').fill(tenant.secret);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'watched' }).click();

    // A policy made in the console: group lag over 50 for 2 s.
    await page.getByRole('link', { name: 'Alarms' }).click();
    const form = page.getByRole('form', { name: 'Create alarm policy' });
    await form.getByLabel('Name').fill('lag-watch');
    await form.getByRole('combobox', { name: 'Metric' }).selectOption('group.lag');
    await form.getByLabel('Group (empty: every one)').fill('billing');
    await form.getByLabel('Threshold').fill('50');
    await form.getByLabel('For (seconds)').fill('2');
    await form.getByRole('combobox', { name: 'Severity' }).selectOption('critical');
    await form.getByRole('button', { name: 'Create policy' }).click();
    await page.getByRole('cell', { name: 'lag-watch' }).waitFor();

    // 200 messages, a group that reads 10 and stops: 190 behind.
    await kcat(['-t', 'events', '-P'], `${Array.from({ length: 200 }, (_, i) => `m${i}`).join('\n')}\n`);
    await kcat(['-G', 'billing', '-X', 'auto.offset.reset=earliest', '-c', '10', '-q', 'events']);

    // The events table polls every 10 s; the alarm needs scrapes and evaluation first.
    const firing = page.getByRole('row').filter({ hasText: 'lag-watch' }).filter({ hasText: 'firing' });
    await firing.waitFor({ timeout: 120_000 });
    await expect(firing.textContent()).resolves.toContain('group=billing');
    await shot(page, 'alarms');

    // Instance-level charts draw the produced messages (uPlot canvases, one per metric).
    await page.getByRole('link', { name: 'Monitoring' }).click();
    await page.getByRole('combobox', { name: 'Time range' }).selectOption({ label: 'last 15 minutes' });
    await page.locator('.chart canvas').first().waitFor({ timeout: 60_000 });
    expect(await page.locator('.chart canvas').count()).toBeGreaterThan(0);
    await shot(page, 'monitoring');
    await page.close();
  }, 300_000);
});
