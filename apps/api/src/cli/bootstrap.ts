#!/usr/bin/env node
/**
 * First-run set-up of a local service: an operator key, the zones and their agents, a demo root
 * account with an API key; prints an operator token and a copy-paste curl that creates an instance.
 * Usage: bootstrap.js <api-url> <zone>=<agent-url> ...
 */
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

const prisma = createPrismaClient();
const opSecret = newSecret();
const opKeyId = newId('operatorKey');
await prisma.operatorKey.create({
  data: { id: opKeyId, name: 'service-bootstrap', secretHash: hashSecret(opSecret) },
});
await prisma.$disconnect();

const operatorToken = (await call('POST', '/v1/auth/token', undefined, { keyId: opKeyId, secret: opSecret }))
  .accessToken as string;
for (const arg of zoneArgs) {
  const [zone, agentUrl] = arg.split('=');
  await call('PUT', `/v1/zones/${zone}`, operatorToken, { capacity: 16, agentUrl });
}
const existing = (await call('GET', '/v1/accounts?name=demo', operatorToken)).items as { id: string }[];
const accountId =
  existing[0]?.id ?? ((await call('POST', '/v1/accounts', operatorToken, { name: 'demo' })).id as string);
const key = await call('POST', `/v1/accounts/${accountId}/api-keys`, operatorToken, {
  description: 'npm run service',
});

console.log(`
Fjord control plane is up at ${apiUrl}  (docs: ${apiUrl}/docs, OpenAPI: ${apiUrl}/openapi.json)

Operator token (15 min):
  export FJORD_OPERATOR_TOKEN=${operatorToken}
Operator key:      ${opKeyId} / ${opSecret}
Root account demo: ${accountId}
Root API key:      ${key.id as string} / ${key.secret as string}   (the secret is shown only now)

Create a 3-broker instance over az-1..3:
  TOKEN=$(curl -s -X POST ${apiUrl}/v1/auth/token -H 'content-type: application/json' \\
    -d '{"keyId":"${key.id as string}","secret":"${key.secret as string}"}' | sed -E 's/.*"accessToken":"([^"]+)".*/\\1/')
  curl -s -X POST ${apiUrl}/v1/instances -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{"name":"demo","zones":["az-1","az-2","az-3"]}'
  # then: curl -s ${apiUrl}/v1/operations/<operation.id> -H "authorization: Bearer $TOKEN"

Or with the CLI:  node apps/cli/dist/main.js login --api ${apiUrl} --key ${key.id as string} --secret <secret>
`);
