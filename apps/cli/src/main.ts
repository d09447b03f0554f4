#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import createClient from 'openapi-fetch';
import { type FjordClient, fjordClient, must, strictClient } from './apiClient.js';
import { flag, intFlag, type ParsedArgs, parseArgs, requiredFlag, USAGE, UsageError } from './args.js';
import { verifyAuditExport } from './auditVerify.js';
import { type Output, runApply, runDestroy, runImport, runPlan } from './declarative/commands.js';
import { DesiredStateError, parseDesiredState } from './declarative/desiredState.js';
import { PlanError } from './declarative/planner.js';
import type { paths } from './generated/api.js';
import { oneShotCommand } from './oneShotCommands.js';
import { type Credentials, loadCredentials, saveCredentials } from './session.js';

async function exchange(c: Credentials): Promise<string> {
  if (c.token && (c.tokenExpiresAt ?? 0) > Date.now() + 30_000) return c.token;
  const api = createClient<paths>({ baseUrl: c.api });
  const { data, error } = await api.POST('/v1/auth/token', { body: { keyId: c.keyId, secret: c.secret } });
  if (!data)
    throw new Error(`login failed: ${(error as { detail?: string } | undefined)?.detail ?? 'no token'}`);
  c.token = data.accessToken;
  c.tokenExpiresAt = Date.now() + data.expiresIn * 1000;
  saveCredentials(c);
  return c.token;
}

const io: Output = { out: (t) => console.log(t), err: (t) => console.error(t) };

/** Apply and destroy change things: a person confirms, a script says --auto-approve. */
async function confirmed(args: ParsedArgs, what: string): Promise<boolean> {
  if (args.flags['auto-approve'] === true) return true;
  if (!process.stdin.isTTY) throw new UsageError(`${what} needs --auto-approve when not run from a terminal`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(`${what}? Only 'yes' is accepted: `);
  rl.close();
  return answer.trim() === 'yes';
}

async function declarative(verb: string, args: ParsedArgs, api: FjordClient): Promise<number> {
  if (verb === 'import') {
    const instances = flag(args, 'instance');
    return runImport(api, instances ? instances.split(',') : [], io);
  }
  const file = requiredFlag(args, 'file');
  const desired = parseDesiredState(readFileSync(file, 'utf8'), process.env);
  const concurrency = intFlag(args, 'concurrency') ?? 8;
  if (concurrency < 1) throw new UsageError('--concurrency must be at least 1');
  const opts = {
    prune: args.flags.prune === true,
    detailedExitCode: args.flags['detailed-exitcode'] === true,
    concurrency,
  };
  if (verb === 'plan') return runPlan(api, desired, opts, io);
  if (verb === 'apply')
    return runApply(api, desired, opts, io, undefined, () => confirmed(args, 'Apply these actions'));
  return runDestroy(api, desired, opts, io, () => confirmed(args, 'Delete these resources'));
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
  const api = fjordClient(c.api, () => exchange(c));
  const verb = args.command[0]!;
  if (['plan', 'apply', 'destroy', 'import'].includes(verb)) return declarative(verb, args, api);
  if (args.command[0] === 'audit' && args.command[1] === 'verify') {
    const account = flag(args, 'account');
    const { data, error } = await api.GET('/v1/audit-events/export', {
      params: { query: account ? { accountId: account } : {} },
      parseAs: 'text',
    });
    if (data === undefined) {
      console.error(JSON.stringify(error));
      return 1;
    }
    const report = verifyAuditExport(account ?? 'of this account', data);
    (report.ok ? console.log : console.error)(report.text);
    return report.ok ? 0 : 1;
  }
  const command = oneShotCommand(args);
  const answer = await command.call(strictClient(api), args);
  if (!answer.response.ok) {
    // The problem+json as the API sent it; an empty body prints as {}.
    console.error(JSON.stringify(answer.error || {}, null, 2));
    return 1;
  }
  const operation = (answer.data as { operation?: { id: string } } | undefined)?.operation;
  if (command.waits && args.flags.wait === true && operation) {
    for (;;) {
      const { data: op } = await must(
        `operation ${operation.id}`,
        api.GET('/v1/operations/{operationId}', { params: { path: { operationId: operation.id } } }),
      );
      if (op.status === 'succeeded' || op.status === 'failed') {
        console.log(JSON.stringify(op, null, 2));
        return op.status === 'succeeded' ? 0 : 1;
      }
      await new Promise((res) => setTimeout(res, 500));
    }
  }
  console.log(JSON.stringify(answer.data ?? {}, null, 2));
  return 0;
}

// Every error exits 1, as Terraform's do: `plan --detailed-exitcode` keeps 2 for "changes".
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const known = e instanceof UsageError || e instanceof DesiredStateError || e instanceof PlanError;
    console.error(known ? (e as Error).message : `fjord: ${(e as Error).message}`);
    process.exit(1);
  },
);
