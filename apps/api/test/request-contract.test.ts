import { ACTIONS } from '@fjord/contracts';
import { type RestClient, startTestApi, type TestApi } from '@fjord/test-support/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * What automation (a Terraform-style provider) relies on: a misspelt field is refused rather than
 * ignored, re-sending the current state changes nothing, and what cannot succeed is refused before
 * anything starts.
 */

let t: TestApi;

beforeAll(async () => {
  t = await startTestApi();
  const operator = await t.operator();
  for (const zone of ['az-1', 'az-2', 'az-3'])
    expect(
      (await operator.call('PUT', `/v1/zones/${zone}`, { capacity: 1000, agentUrl: 'http://127.0.0.1:1' }))
        .status,
    ).toBe(200);
});
afterAll(() => t?.close());

const body = { name: 'orders', zones: ['az-1', 'az-2', 'az-3'] };

const validationPaths = (r: {
  status: number;
  headers: Headers;
  body: { code: string; errors?: unknown };
}) => {
  expect(r.status).toBe(400);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body.code).toBe('validation_failed');
  return (r.body.errors as { path: string; code: string }[]).map((e) => e.path);
};

/** An instance as if its create had finished: running, no operation in flight. */
async function runningInstance(client: RestClient, name = 'orders') {
  const created = await client.call('POST', '/v1/instances', { ...body, name });
  expect(created.status).toBe(202);
  const id = created.body.instance.id as string;
  await t.prisma.operation.updateMany({ where: { instanceId: id }, data: { status: 'SUCCEEDED' } });
  await t.prisma.instance.update({ where: { id }, data: { status: 'RUNNING', statusReason: null } });
  const got = await client.call('GET', `/v1/instances/${id}`);
  return { id, etag: got.headers.get('etag')!, instance: got.body };
}

const auditActions = async (client: RestClient, resource: string) =>
  (await client.call('GET', `/v1/audit-events?resource=${resource}`)).body.items.map(
    (e: { action: string }) => e.action,
  );

describe('unknown fields', () => {
  it('a misspelt field of a create is refused, naming it, and nothing is created', async () => {
    const { client } = await t.tenant('strict-create');
    const r = await client.call('POST', '/v1/instances', { ...body, brokerCont: 3 });
    expect(validationPaths(r)).toEqual(['/brokerCont']);
    expect(r.body.errors[0]).toMatchObject({ code: 'unknown_field', message: "unknown field 'brokerCont'" });
    // Nested objects are strict too.
    const nested = await client.call('POST', '/v1/instances', { ...body, spec: { diskGib: 10 } });
    expect(validationPaths(nested)).toEqual(['/spec/diskGib']);
    const route = await client.call('POST', '/v1/instances', {
      ...body,
      accessRoutes: [{ type: 'internal', allowedCidr: ['10.0.0.0/8'] }],
    });
    expect(validationPaths(route)).toContain('/accessRoutes/0/allowedCidr');
    expect((await client.call('GET', '/v1/instances')).body.items).toEqual([]);
  });

  it('a misspelt field of a PATCH is refused and changes nothing', async () => {
    const { client } = await t.tenant('strict-patch');
    const { id, etag } = await runningInstance(client);
    const r = await client.call('PATCH', `/v1/instances/${id}`, { deletionProtecton: true });
    expect(validationPaths(r)).toEqual(['/deletionProtecton']);
    const after = await client.call('GET', `/v1/instances/${id}`);
    expect(after.headers.get('etag')).toBe(etag);
    expect(after.body.deletionProtection).toBe(false);
  });

  it('a topic PATCH names a bad config key or value; null (remove the override) is a valid value', async () => {
    const { client } = await t.tenant('strict-topic-patch');
    const { id } = await runningInstance(client);
    const patch = (configs: object) => client.call('PATCH', `/v1/instances/${id}/topics/events`, { configs });
    expect(validationPaths(await patch({ 'retention.ms': null, 'retention.mss': null }))).toEqual([
      '/configs/retention.mss',
    ]);
    expect(validationPaths(await patch({ 'retention.ms': 'soon' }))).toEqual(['/configs/retention.ms']);
    expect(validationPaths(await patch({ 'retention.ms': 5 }))).toEqual(['/configs/retention.ms']);
    // Past validation: the request reaches the (absent) cluster, not a 400.
    expect((await patch({ 'retention.ms': null })).status).not.toBe(400);
  });

  it('unknown query parameters are refused, named under query/', async () => {
    const { client } = await t.tenant('strict-query');
    expect(validationPaths(await client.call('GET', '/v1/instances?limt=5'))).toEqual(['query/limt']);
    expect(validationPaths(await client.call('GET', '/v1/audit-events?actor=me'))).toEqual(['query/actor']);
    expect((await client.call('GET', '/v1/instances?limit=5')).status).toBe(200);
  });

  it('the OpenAPI document says so: every object of every request body allows no other properties', async () => {
    const doc = (await t.anonymous.call('GET', '/openapi.json')).body;
    type Schema = Record<string, unknown>;
    const loose: string[] = [];
    const walk = (s: Schema | undefined, where: string, seen: Set<string>) => {
      if (!s || typeof s !== 'object') return;
      if (typeof s.$ref === 'string') {
        const name = s.$ref.split('/').pop()!;
        if (seen.has(name)) return;
        return walk(doc.components.schemas[name], `${where}→${name}`, new Set([...seen, name]));
      }
      if (s.properties && s.additionalProperties !== false) loose.push(where);
      for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Schema>))
        walk(v, `${where}.${k}`, seen);
      for (const key of ['anyOf', 'oneOf', 'allOf'] as const)
        for (const v of (s[key] ?? []) as Schema[]) walk(v, where, seen);
      if (s.items) walk(s.items as Schema, `${where}[]`, seen);
    };
    let bodies = 0;
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Schema>>))
      for (const [method, op] of Object.entries(methods)) {
        const content = (op.requestBody as { content?: Record<string, { schema: Schema }> } | undefined)
          ?.content;
        if (!content) continue;
        bodies++;
        walk(content['application/json']?.schema, `${method.toUpperCase()} ${path}`, new Set());
      }
    expect(bodies).toBeGreaterThan(20);
    expect(loose).toEqual([]);
  });
});

describe('no-op updates', () => {
  it('re-sending the current name and protection answers 200 with version, ETag and audit unchanged', async () => {
    const { client } = await t.tenant('noop-patch');
    const { id, etag, instance } = await runningInstance(client);
    expect(etag).toBe('"1"');
    for (const same of [
      { name: 'orders' },
      { deletionProtection: false },
      { name: 'orders', deletionProtection: false },
    ]) {
      const r = await client.call('PATCH', `/v1/instances/${id}`, same, { 'if-match': etag });
      expect(r.status).toBe(200);
      expect(r.headers.get('etag')).toBe(etag);
      expect(r.body).toEqual(instance);
    }
    // A stale If-Match is still refused, change or not.
    expect(
      (await client.call('PATCH', `/v1/instances/${id}`, { name: 'orders' }, { 'if-match': '"9"' })).status,
    ).toBe(412);
    expect(await auditActions(client, `instance/${id}`)).toEqual(['CreateInstance']);
    // A real change still is one, audited with what changed.
    const changed = await client.call('PATCH', `/v1/instances/${id}`, {
      name: 'orders',
      deletionProtection: true,
    });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).toBe('"2"');
    expect(await auditActions(client, `instance/${id}`)).toEqual(['ModifyInstance', 'CreateInstance']);
  });

  it('a resize to the current size answers 200 with the instance: no operation, no audit event', async () => {
    const { client } = await t.tenant('noop-resize');
    const { id, etag, instance } = await runningInstance(client);
    const opsBefore = await t.prisma.operation.count({ where: { instanceId: id } });
    for (const same of [
      { brokerCount: 3 },
      { spec: { diskGiB: 100 } },
      { brokerCount: 3, spec: { bandwidthMBps: 40, diskGiB: 100, partitionLimit: 400 } },
    ]) {
      const r = await client.call('POST', `/v1/instances/${id}/resize`, same, { 'if-match': etag });
      expect(r.status).toBe(200);
      expect(r.headers.get('etag')).toBe(etag);
      expect(r.body).toEqual(instance);
    }
    expect(await t.prisma.operation.count({ where: { instanceId: id } })).toBe(opsBefore);
    expect(await auditActions(client, `instance/${id}`)).toEqual(['CreateInstance']);
    // A change is still a resize.
    const grow = await client.call('POST', `/v1/instances/${id}/resize`, { spec: { bandwidthMBps: 80 } });
    expect(grow.status).toBe(202);
    expect(grow.body.operation.kind).toBe('instance.resize');
  });
});

describe('the action catalogue', () => {
  it('GET /v1/actions lists every action, and is in the OpenAPI document', async () => {
    const { client } = await t.tenant('actions-list');
    const r = await client.call('GET', '/v1/actions');
    expect(r.status).toBe(200);
    expect(r.body.items.map((a: { name: string }) => a.name)).toEqual([...ACTIONS]);
    expect(r.body.items).toContainEqual({ name: 'kafka:CreateTopic', service: 'kafka' });
    expect((await t.anonymous.call('GET', '/v1/actions')).status).toBe(401);
    const doc = (await t.anonymous.call('GET', '/openapi.json')).body;
    expect(doc.paths['/v1/actions']?.get).toBeDefined();
  });

  it('policies and grants naming no action are refused, naming the action; patterns must match one', async () => {
    const { client } = await t.tenant('actions-policy');
    const other = await t.tenant('actions-grantee');
    let n = 0;
    const policy = (actions: string[]) =>
      client.call('POST', '/v1/policies', { name: `p${n++}`, effect: 'allow', actions, resources: ['*'] });
    const typo = await policy(['kafka:ListTopics', 'kafka:CreateTopik']);
    expect(validationPaths(typo)).toEqual(['/actions/1']);
    expect(typo.body.errors[0].message).toContain('kafka:CreateTopik');
    expect(validationPaths(await policy(['kafka:Frobnicate*']))).toEqual(['/actions/0']);
    expect(validationPaths(await policy(['storage:*']))).toEqual(['/actions/0']);
    const grant = await client.call('POST', '/v1/grants', {
      granteeAccountId: other.accountId,
      actions: ['kafka:ListZone'],
      resources: ['zone/*'],
    });
    expect(validationPaths(grant)).toEqual(['/actions/0']);
    expect((await client.call('GET', '/v1/policies')).body.items).toEqual([]);
    // Patterns that cover catalogued actions are fine.
    for (const actions of [['*'], ['kafka:*'], ['kafka:Describe*', 'iam:ListPolicies']])
      expect((await policy(actions)).status).toBe(201);
  });
});

describe('refused before anything starts', () => {
  it('a cluster ACL on a name other than kafka-cluster is refused naming resourceName', async () => {
    const { client } = await t.tenant('acl-cluster');
    const { id } = await runningInstance(client);
    const r = await client.call('POST', `/v1/instances/${id}/acls`, {
      resourceType: 'cluster',
      resourceName: 'my-cluster',
      principal: 'User:alice',
      operation: 'describe',
    });
    expect(validationPaths(r)).toEqual(['/resourceName']);
    expect(r.body.errors[0].message).toContain('kafka-cluster');
    expect(await t.prisma.operation.count({ where: { instanceId: id, kind: 'acl.create' } })).toBe(0);
  });
});

describe('OpenAPI for code generators', () => {
  it('every operation has a unique camelCase operationId; errors are problem+json; responses say what they mean', async () => {
    const doc = (await t.anonymous.call('GET', '/openapi.json')).body as {
      paths: Record<
        string,
        Record<
          string,
          { operationId?: string; responses: Record<string, { description: string; content?: object }> }
        >
      >;
    };
    const ids: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(methods)) {
        const route = `${method.toUpperCase()} ${path}`;
        expect(op.operationId, route).toMatch(/^[a-z][A-Za-z0-9]*$/);
        ids.push(op.operationId!);
        for (const [status, response] of Object.entries(op.responses)) {
          expect(response.description, `${route} ${status}`).not.toBe('Default Response');
          if (Number(status) >= 400 && response.content)
            expect(Object.keys(response.content), `${route} ${status}`).toEqual(['application/problem+json']);
        }
      }
    expect(ids.length).toBeGreaterThan(40);
    expect(new Set(ids).size).toBe(ids.length);
    // Derived from method and path: stable as long as the route is.
    expect(doc.paths['/v1/instances/{instanceId}']!.patch!.operationId).toBe('patchInstancesByInstanceId');
    expect(doc.paths['/v1/actions']!.get!.operationId).toBe('getActions');
  });

  it('names the protocol headers where they apply, as the API sends them', async () => {
    interface Op {
      parameters?: { $ref?: string; in?: string; name?: string; description?: string }[];
      responses: Record<string, { headers?: Record<string, { $ref: string }> }>;
    }
    const doc = (await t.anonymous.call('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, Op>>;
      components: { headers: Record<string, unknown>; parameters: Record<string, { name: string }> };
    };
    const headersOf = (op: Op, status: number) => Object.keys(op.responses[status]?.headers ?? {}).sort();
    const instance = doc.paths['/v1/instances/{instanceId}']!;
    // GET and PATCH answer with the ETag that If-Match takes; the PATCH documents If-Match.
    expect(headersOf(instance.get!, 200)).toContain('ETag');
    expect(headersOf(instance.patch!, 200)).toContain('ETag');
    expect(instance.patch!.parameters!.find((p) => p.name === 'if-match')?.description).toMatch(/412/);
    // Every authenticated answer carries the rate-limit headers; 429 and 503 say when to retry.
    expect(headersOf(instance.get!, 429)).toEqual([
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'Retry-After',
    ]);
    expect(headersOf(instance.get!, 503)).toContain('Retry-After');
    // Idempotency-Key on authenticated POSTs only (not the token exchange).
    const create = doc.paths['/v1/instances']!.post!;
    expect(create.parameters?.map((p) => p.$ref)).toContain('#/components/parameters/IdempotencyKey');
    expect(doc.components.parameters.IdempotencyKey!.name).toBe('Idempotency-Key');
    expect(doc.paths['/v1/auth/token']!.post!.parameters ?? []).toEqual([]);
    expect(headersOf(doc.paths['/v1/auth/token']!.post!, 200)).toEqual([]);
    // Topics have no version: no ETag is promised.
    expect(headersOf(doc.paths['/v1/instances/{instanceId}/topics/{topic}']!.get!, 200)).not.toContain(
      'ETag',
    );
    // What the API really sends matches.
    const root = (await t.tenant('openapi-headers')).client;
    const made = await root.call('GET', '/v1/instances');
    expect(made.headers.get('ratelimit-remaining')).not.toBeNull();
  });
});
