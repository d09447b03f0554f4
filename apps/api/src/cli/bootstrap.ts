#!/usr/bin/env node
/**
 * Set-up of a local service: an operator key, the zones and their agents, a demo root account with
 * an API key; prints an operator token and a copy-paste curl that creates an instance. With
 * FJORD_BOOTSTRAP_FILE the keys are kept there (0600) and reused while they still work.
 * Usage: bootstrap.js <api-url> <zone>=<agent-url> ...
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { newId } from '@fjord/contracts';
import { createPrismaClient } from '@fjord/db';
import { hashSecret, newSecret } from '../auth/secrets.js';

const [apiUrl, ...zoneArgs] = process.argv.slice(2);
if (!apiUrl) {
  console.error('usage: bootstrap.js <api-url> <zone>=<agent-url> ...');
  process.exit(2);
}

async function call(method: string, path: string, token: string | undefined, body?: unknown) {
  const res = await fetch(`${apiUrl}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** What a previous run minted, kept owner-only in FJORD_BOOTSTRAP_FILE so restarts reuse it. */
interface Credentials {
  operatorKeyId: string;
  operatorSecret: string;
  accountId?: string;
  apiKeyId?: string;
  apiKeySecret?: string;
}
const credentialsFile = process.env.FJORD_BOOTSTRAP_FILE;
const saved: Partial<Credentials> =
  credentialsFile && existsSync(credentialsFile)
    ? (JSON.parse(readFileSync(credentialsFile, 'utf8')) as Partial<Credentials>)
    : {};

/** A token for the key pair, or undefined when the pair no longer works (revoked, another database). */
async function tokenFor(keyId: string | undefined, secret: string | undefined): Promise<string | undefined> {
  if (!keyId || !secret) return undefined;
  return (await call('POST', '/v1/auth/token', undefined, { keyId, secret }).catch(() => undefined))
    ?.accessToken as string | undefined;
}

let operatorToken = await tokenFor(saved.operatorKeyId, saved.operatorSecret);
const creds: Credentials = {
  operatorKeyId: saved.operatorKeyId ?? '',
  operatorSecret: saved.operatorSecret ?? '',
};
if (!operatorToken) {
  const prisma = createPrismaClient();
  creds.operatorSecret = newSecret();
  creds.operatorKeyId = newId('operatorKey');
  await prisma.operatorKey.create({
    data: {
      id: creds.operatorKeyId,
      name: 'service-bootstrap',
      secretHash: hashSecret(creds.operatorSecret),
    },
  });
  await prisma.$disconnect();
  operatorToken = (await tokenFor(creds.operatorKeyId, creds.operatorSecret)) as string;
}
for (const arg of zoneArgs) {
  const [zone, agentUrl] = arg.split('=');
  await call('PUT', `/v1/zones/${zone}`, operatorToken, { capacity: 16, agentUrl });
}
const existing = (await call('GET', '/v1/accounts?name=demo', operatorToken)).items as { id: string }[];
const accountId =
  existing[0]?.id ?? ((await call('POST', '/v1/accounts', operatorToken, { name: 'demo' })).id as string);
const reused =
  saved.accountId === accountId && (await tokenFor(saved.apiKeyId, saved.apiKeySecret)) !== undefined;
const key = reused
  ? { id: saved.apiKeyId!, secret: saved.apiKeySecret! }
  : await call('POST', `/v1/accounts/${accountId}/api-keys`, operatorToken, {
      description: 'npm run service',
    });
Object.assign(creds, { accountId, apiKeyId: key.id as string, apiKeySecret: key.secret as string });
if (credentialsFile) writeFileSync(credentialsFile, JSON.stringify(creds, null, 2), { mode: 0o600 });
const opKeyId = creds.operatorKeyId;
const opSecret = creds.operatorSecret;

console.log(`
Fjord control plane is up at ${apiUrl}  (docs: ${apiUrl}/docs, OpenAPI: ${apiUrl}/openapi.json)

Operator token (15 min):
  export FJORD_OPERATOR_TOKEN=${operatorToken}
Operator key:      ${opKeyId} / ${opSecret}
Root account demo: ${accountId}
Root API key:      ${key.id as string} / ${key.secret as string}   (${credentialsFile ? `kept in ${credentialsFile}, reused by the next run` : 'the secret is shown only now'})

Create a 3-broker instance over az-1..3:
  TOKEN=$(curl -s -X POST ${apiUrl}/v1/auth/token -H 'content-type: application/json' \\
    -d '{"keyId":"${key.id as string}","secret":"${key.secret as string}"}' | sed -E 's/.*"accessToken":"([^"]+)".*/\\1/')
  curl -s -X POST ${apiUrl}/v1/instances -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{"name":"demo","zones":["az-1","az-2","az-3"]}'
  # then: curl -s ${apiUrl}/v1/operations/<operation.id> -H "authorization: Bearer $TOKEN"

Or with the CLI:  node apps/cli/dist/main.js login --api ${apiUrl} --key ${key.id as string} --secret <secret>
`);
