#!/usr/bin/env node
import { flag, parseArgs, requiredFlag, toRequest, USAGE, UsageError } from './args.js';
import { verifyAuditExport } from './auditVerify.js';
import { type Credentials, loadCredentials, saveCredentials } from './session.js';

async function exchange(c: Credentials): Promise<string> {
  if (c.token && (c.tokenExpiresAt ?? 0) > Date.now() + 30_000) return c.token;
  const res = await fetch(`${c.api}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ keyId: c.keyId, secret: c.secret }),
  });
  const body = (await res.json()) as { accessToken?: string; expiresIn?: number; detail?: string };
  if (!res.ok || !body.accessToken) throw new Error(`login failed: ${body.detail ?? res.status}`);
  c.token = body.accessToken;
  c.tokenExpiresAt = Date.now() + (body.expiresIn ?? 0) * 1000;
  saveCredentials(c);
  return c.token;
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.command.length === 0 || args.flags.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.command[0] === 'login') {
    const c: Credentials = {
      api: (flag(args, 'api') ?? 'http://127.0.0.1:8080').replace(/\/$/, ''),
      keyId: requiredFlag(args, 'key'),
      secret: requiredFlag(args, 'secret'),
    };
    await exchange(c);
    console.log(`logged in to ${c.api} as ${c.keyId}`);
    return 0;
  }
  const c = loadCredentials();
  if (!c) throw new UsageError('not logged in: fjord login --api URL --key KEY_ID --secret SECRET');
  if (args.command[0] === 'audit' && args.command[1] === 'verify') {
    const account = flag(args, 'account');
    const res = await fetch(
      `${c.api}/v1/audit-events/export${account ? `?accountId=${encodeURIComponent(account)}` : ''}`,
      { headers: { authorization: `Bearer ${await exchange(c)}` } },
    );
    const text = await res.text();
    if (!res.ok) {
      console.error(text);
      return 1;
    }
    const report = verifyAuditExport(account ?? 'of this account', text);
    (report.ok ? console.log : console.error)(report.text);
    return report.ok ? 0 : 1;
  }
  const req = toRequest(args);
  const token = await exchange(c);
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${c.api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };
  let r = await call(req.method, req.path, req.body);
  if (r.status >= 400) {
    console.error(JSON.stringify(r.body, null, 2));
    return 1;
  }
  const operation = r.body.operation as { id: string } | undefined;
  if (req.wait && operation) {
    for (;;) {
      r = await call('GET', `/v1/operations/${operation.id}`);
      const status = r.body.status;
      if (status === 'succeeded' || status === 'failed') break;
      await new Promise((res) => setTimeout(res, 500));
    }
    console.log(JSON.stringify(r.body, null, 2));
    return r.body.status === 'succeeded' ? 0 : 1;
  }
  console.log(JSON.stringify(r.body, null, 2));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof UsageError ? e.message : `fjord: ${(e as Error).message}`);
    process.exit(2);
  },
);
