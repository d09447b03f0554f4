/**
 * Web console: bundle size (what a first load downloads, raw and gzip) against its budget, and
 * first-load time to interactive on localhost in Debian's Chromium, cold cache each round:
 * - sign-in page: navigation until the Sign in button is on screen and enabled;
 * - instances page of a signed-in tab: navigation until the (empty) list is drawn:
 *   a stored session (no token exchange) and one `GET /v1/instances` (none yet).
 * The API runs in this process (startTestApi), as the e2e test runs it.
 * Run: `npx tsx test/bench/console-load.bench.ts` (FJORD_BENCH_ROUNDS, default 20).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startTestApi } from '@fjord/test-support/api';
import { launchChromium } from '@fjord/test-support/browser';

const ROUNDS = Number(process.env.FJORD_BENCH_ROUNDS ?? 20);
/** First-load budget, gzip, everything index.html pulls in (ADR 0021). */
const BUDGET_GZIP_BYTES = 100 * 1024;
const dist = resolve(import.meta.dirname, '../../apps/console/dist');

function bundle() {
  const files = ['index.html', ...readdirSync(join(dist, 'assets')).map((f) => `assets/${f}`)];
  let raw = 0;
  let gzip = 0;
  for (const f of files) {
    const body = readFileSync(join(dist, f));
    raw += statSync(join(dist, f)).size;
    gzip += gzipSync(body, { level: 9 }).length;
  }
  return { files: files.length, raw, gzip };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const size = bundle();
const t = await startTestApi();
const tenant = await t.tenant('bench');
const browser = await launchChromium();
const signIn: number[] = [];
const list: number[] = [];
try {
  // A stored session, as a signed-in tab has it (the console keeps it in sessionStorage).
  const token = (
    await t.anonymous.call('POST', '/v1/auth/token', { keyId: tenant.keyId, secret: tenant.secret })
  ).body;
  const session = JSON.stringify({
    keyId: tenant.keyId,
    secret: tenant.secret,
    token: token.accessToken,
    expiresAt: Date.now() + token.expiresIn * 1000,
  });
  for (let i = 0; i < ROUNDS + 2; i++) {
    for (const signedIn of [false, true]) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      if (signedIn)
        await context.addInitScript(
          `sessionStorage.setItem('fjord.console.session', ${JSON.stringify(session)})`,
        );
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(`${t.api.url}/console/`, { waitUntil: 'commit' });
      if (signedIn) await page.getByText('No instances yet.').waitFor();
      else await page.getByRole('button', { name: 'Sign in' }).waitFor();
      const ms = performance.now() - started;
      if (i >= 2) (signedIn ? list : signIn).push(ms); // the first two rounds warm the server
      await context.close();
    }
  }
} finally {
  await browser.close();
  await t.close();
}

const row = (name: string, xs: number[]) =>
  `| ${name} | ${pct(xs, 50).toFixed(0)} | ${pct(xs, 95).toFixed(0)} | ${Math.max(...xs).toFixed(0)} |`;
console.log(
  `bundle: ${size.files} files, ${(size.raw / 1024).toFixed(1)} KiB raw, ${(size.gzip / 1024).toFixed(1)} KiB gzip (budget ${BUDGET_GZIP_BYTES / 1024} KiB gzip)`,
);
console.log(`rounds: ${ROUNDS}, cold cache each`);
console.log('| first load to interactive | p50 ms | p95 ms | max ms |');
console.log('| --- | ---: | ---: | ---: |');
console.log(row('sign-in page', signIn));
console.log(row('instances list, signed in', list));
if (size.gzip > BUDGET_GZIP_BYTES) {
  console.error('over budget');
  process.exitCode = 1;
}
