import { newId } from '@fjord/contracts';
import { type RestClient, startTestApi, type TestApi } from '@fjord/test-support/api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  $ref?: string;
}
interface OpenApiOperation {
  parameters?: { in: string; name: string; required?: boolean; schema: JsonSchema }[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, unknown>;
}
interface OpenApiDoc {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

let t: TestApi;
let doc: OpenApiDoc;
let root: RestClient;

beforeAll(async () => {
  t = await startTestApi({ ratePerSecond: 100_000, burst: 100_000 });
  root = (await t.tenant('props')).client;
  doc = (await t.anonymous.call('GET', '/openapi.json')).body;
});
afterAll(() => t?.close());

/** Values that match the schema (patterns through fast-check's regex generator), sometimes anything at all. */
function arb(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref) return arb(doc.components?.schemas?.[schema.$ref.split('/').pop()!] ?? {}, depth);
  const valid = validArb(schema, depth);
  return fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: fc.anything({ maxDepth: 2 }), weight: 1 });
}

/** Values the schema accepts, at every depth. */
function validArb(schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if (schema.$ref) return validArb(doc.components?.schemas?.[schema.$ref.split('/').pop()!] ?? {}, depth);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts) return fc.oneof(...alts.map((s) => validArb(s, depth + 1)));
  if (schema.allOf) return validArb(schema.allOf[0]!, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      if (depth > 3 || !schema.properties) return fc.constant({});
      const required = new Set(schema.required ?? []);
      const entries = Object.entries(schema.properties);
      return fc.record(Object.fromEntries(entries.map(([k, v]) => [k, validArb(v, depth + 1)])), {
        requiredKeys: entries.map(([k]) => k).filter((k) => required.has(k)),
      });
    }
    case 'array': {
      const minLength = schema.minItems ?? 0;
      return fc.array(schema.items ? validArb(schema.items, depth + 1) : fc.anything(), {
        minLength,
        maxLength: Math.min(schema.maxItems ?? minLength + 3, minLength + 3),
      });
    }
    case 'string':
      if (schema.pattern) {
        try {
          return fc
            .stringMatching(new RegExp(schema.pattern))
            .filter((s) => s.length <= (schema.maxLength ?? 300));
        } catch {
          return fc.string();
        }
      }
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) });
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.anything({ maxDepth: 1 });
  }
}

const asParam = (v: unknown) => encodeURIComponent(typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));

/** A body that was valid, then broken in one way a client might break it. */
function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc
    .tuple(valid, fc.constantFrom('drop', 'retype', 'extra', 'replace'), fc.anything({ maxDepth: 2 }))
    .map(([v, how, junk]) => {
      if (how === 'replace' || v === null || typeof v !== 'object' || Array.isArray(v)) return junk;
      const o = { ...(v as Record<string, unknown>) };
      const keys = Object.keys(o);
      const key = keys[keys.length ? Math.abs(JSON.stringify(junk ?? '').length) % keys.length : 0];
      if (how === 'drop' && key !== undefined) delete o[key];
      else if (how === 'retype' && key !== undefined) o[key] = junk;
      else o[`unexpected_${keys.length}`] = junk;
      return o;
    });
}

const headerText = fc
  .string({ unit: 'binary-ascii', maxLength: 40 })
  .map((s) => s.replace(/[^\x20-\x7e]/g, ''));
/** Headers clients send, with values right, wrong or odd. */
const headers = fc.record(
  {
    'if-match': fc.oneof(fc.constantFrom('"1"', 'W/"1"', '*', '"999"', ''), headerText),
    'idempotency-key': fc.oneof(fc.uuid(), headerText),
    'content-type': fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'x/y',
    ),
    accept: fc.constantFrom('application/json', 'application/x-ndjson', 'text/html', '*/*'),
  },
  { requiredKeys: [] },
);

/**
 * Rows of every table a request may create, and the versions of what it may update: a refused
 * request must leave all of them as they were. Refusals (403) are audited on purpose, so only
 * events of other outcomes count.
 */
async function stateOf(): Promise<Record<string, unknown>> {
  const [row] = await t.prisma.$queryRaw<Record<string, unknown>[]>`
    SELECT (SELECT count(*) FROM "Account") AS accounts,
           (SELECT count(*) FROM "SubAccount") AS sub_accounts,
           (SELECT count(*) FROM "Policy") AS policies,
           (SELECT count(*) FROM "PolicyAttachment") AS attachments,
           (SELECT count(*) FROM "ApiKey" WHERE "revokedAt" IS NULL) AS api_keys,
           (SELECT count(*) FROM "CollaboratorGrant") AS grants,
           (SELECT count(*) FROM "Zone") AS zones,
           (SELECT count(*) FROM "Instance" WHERE "deletedAt" IS NULL) AS instances,
           (SELECT coalesce(sum(version), 0) FROM "Instance") AS instance_versions,
           (SELECT count(*) FROM "BrokerPlacement") AS placements,
           (SELECT count(*) FROM "Operation") AS operations,
           (SELECT count(*) FROM "NotificationChannel" WHERE "deletedAt" IS NULL) AS channels,
           (SELECT count(*) FROM "AlarmPolicy") AS alarm_policies,
           (SELECT coalesce(sum(version), 0) FROM "AlarmPolicy") AS alarm_versions,
           (SELECT count(*) FROM "AuditEvent" WHERE outcome <> 'DENIED') AS audit_events`;
  return row!;
}

describe('requests generated from the OpenAPI document', () => {
  it('random and mutated params, queries, bodies and headers on every route: never 5xx, never half-made state', async () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
    );
    expect(operations.length).toBeGreaterThan(30);
    // Resources of the caller's own, so that generated requests also reach the routes' own checks.
    const operator = await t.operator();
    await operator.call('PUT', '/v1/zones/az-1', { capacity: 100, agentUrl: 'http://127.0.0.1:1' });
    const ins = (
      await root.call('POST', '/v1/instances', { name: 'fuzzed', zones: ['az-1'], brokerCount: 1 })
    ).body;
    const own: Record<string, string> = {
      instanceId: ins.instance.id,
      operationId: ins.operation.id,
      subAccountId: (await root.call('POST', '/v1/sub-accounts', { name: 'fuzzed' })).body.id,
      policyId: (
        await root.call('POST', '/v1/policies', {
          name: 'fuzzed',
          effect: 'allow',
          actions: ['*'],
          resources: ['*'],
        })
      ).body.id,
      channelId: (
        await root.call('POST', '/v1/notification-channels', {
          name: 'fuzzed',
          type: 'webhook',
          url: 'https://hooks.example.com/hook',
        })
      ).body.id,
      zone: 'az-1',
    };
    own.alarmPolicyId = (
      await root.call('POST', `/v1/instances/${own.instanceId}/alarm-policies`, {
        name: 'fuzzed',
        metric: 'instance.bytes_in',
        comparison: '>',
        threshold: 1,
      })
    ).body.id;
    let requests = 0;
    let refused = 0;
    for (const [index, { path, method, op }] of operations.entries()) {
      const params = op.parameters ?? [];
      const bodySchema = op.requestBody?.content['application/json']?.schema;
      const pathParams = params.filter((p) => p.in === 'path');
      const queryParams = params.filter((p) => p.in === 'query');
      const pathValue = (p: (typeof params)[number]) =>
        own[p.name]
          ? fc.oneof({ arbitrary: fc.constant(own[p.name]), weight: 3 }, arb(p.schema))
          : arb(p.schema);
      // Well-formed requests (valid JSON bodies and query values, plain headers)…
      const wellFormed = fc.record({
        path: fc.record(Object.fromEntries(pathParams.map((p) => [p.name, pathValue(p)]))),
        query: fc.record(Object.fromEntries(queryParams.map((p) => [p.name, validArb(p.schema, 0)])), {
          requiredKeys: [],
        }),
        body: bodySchema ? validArb(bodySchema, 0) : fc.constant(undefined),
        headers: fc.record(
          { 'if-match': fc.constantFrom('"1"', '"2"', 'W/"1"', '*'), 'idempotency-key': fc.uuid() },
          { requiredKeys: [] },
        ),
      });
      // …and anything: random or mutated params, queries, bodies and headers.
      const anything = fc.record({
        path: fc.record(
          Object.fromEntries(
            pathParams.map((p) => [p.name, fc.oneof({ arbitrary: pathValue(p), weight: 3 }, fc.string())]),
          ),
        ),
        query: fc.record(
          {
            ...Object.fromEntries(queryParams.map((p) => [p.name, arb(p.schema)])),
            unexpected: fc.string(),
          },
          { requiredKeys: [] },
        ),
        body: bodySchema
          ? fc.oneof(arb(bodySchema), mutated(validArb(bodySchema, 0)))
          : fc.constant(undefined),
        headers,
      });
      const request = fc.oneof({ arbitrary: wellFormed, weight: 2 }, { arbitrary: anything, weight: 1 });
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const url =
            path.replace(
              /\{(\w+)\}/g,
              (_, name: string) => asParam((r.path as Record<string, unknown>)[name]) || 'x',
            ) +
            (Object.keys(r.query).length
              ? `?${Object.entries(r.query)
                  .map(([k, v]) => `${k}=${asParam(v)}`)
                  .join('&')}`
              : '');
          const before = await stateOf();
          const reply = await root.call(method, url, r.body, r.headers as Record<string, string>);
          requests++;
          const what = `${method} ${url} ${JSON.stringify(r.body)} ${JSON.stringify(r.headers)} → ${reply.status} ${JSON.stringify(reply.body)}`;
          // The one deliberate 5xx: this test API runs without a Prometheus.
          const unconfigured = reply.body?.detail === 'monitoring is not configured on this deployment';
          if (reply.status >= 500 && !unconfigured) throw new Error(what);
          // Other media types are refused by the framework (415/406) before the route's own answers.
          const documented = Object.keys(op.responses).map(Number);
          const h = r.headers as Record<string, string>;
          const plainJson = !h['content-type'] || h['content-type'] === 'application/json';
          if (plainJson && !documented.includes(reply.status))
            throw new Error(`${what} (documented: ${documented})`);
          if (reply.status >= 400) {
            refused++;
            expect(await stateOf(), `a refused request changed state: ${what}`).toEqual(before);
          }
        }),
        { numRuns: 7, seed: 20261206 + index },
      );
    }
    expect(requests).toBeGreaterThanOrEqual(300);
    expect(refused).toBeGreaterThan(requests / 3);
  }, 240_000);
});

describe('tenant isolation across every route', () => {
  it("another tenant's resources answer exactly as missing ones (404, or 403 for operator-only routes) on every route that names one", async () => {
    const owner = await t.tenant('iso-owner');
    const op = await t.operator();
    await op.call('PUT', '/v1/zones/az-1', { capacity: 100, agentUrl: 'http://127.0.0.1:1' });
    const ins = (
      await owner.client.call('POST', '/v1/instances', { name: 'private', zones: ['az-1'], brokerCount: 1 })
    ).body;
    const sub = (await owner.client.call('POST', '/v1/sub-accounts', { name: 'sub' })).body;
    const pol = (
      await owner.client.call('POST', '/v1/policies', {
        name: 'p',
        effect: 'allow',
        actions: ['*'],
        resources: ['*'],
      })
    ).body;
    const key = (await owner.client.call('POST', '/v1/api-keys', {})).body;
    const other = await t.tenant('iso-other');
    const grant = (
      await owner.client.call('POST', '/v1/grants', {
        granteeAccountId: other.accountId,
        actions: ['kafka:ListZones'],
        resources: ['zone/*'],
      })
    ).body;
    const channel = (
      await owner.client.call('POST', '/v1/notification-channels', {
        name: 'ops',
        type: 'webhook',
        url: 'https://hooks.example.com/hook',
      })
    ).body;
    const alarm = (
      await owner.client.call('POST', `/v1/instances/${ins.instance.id}/alarm-policies`, {
        name: 'lag',
        metric: 'group.lag',
        comparison: '>',
        threshold: 10,
      })
    ).body;
    const sinkBody = {
      name: 'archive',
      type: 's3-sink',
      config: { topics: ['orders'], bucket: 'archive' },
      secrets: { accessKeyId: 'a', secretAccessKey: 'b' },
    };
    const connector = (
      await owner.client.call('POST', `/v1/instances/${ins.instance.id}/connectors`, sinkBody)
    ).body;
    const ids: Record<string, string> = {
      instanceId: ins.instance.id,
      connectorId: connector.id,
      metric: 'instance.bytes_in',
      alarmPolicyId: alarm.id,
      channelId: channel.id,
      operationId: ins.operation.id,
      subAccountId: sub.id,
      policyId: pol.id,
      keyId: key.id,
      // Operator-only routes answer 403 to a tenant whatever the id.
      operatorKeyId: newId('operatorKey'),
      grantId: grant.id,
      accountId: owner.accountId,
      topic: 'orders',
      partition: '0',
      user: 'alice',
      groupId: 'billing',
      zone: 'az-1',
    };
    const samples: Record<string, unknown> = {
      'PATCH /v1/instances/{instanceId}': { name: 'stolen' },
      'POST /v1/instances/{instanceId}/resize': { brokerCount: 2 },
      'PUT /v1/instances/{instanceId}/routes/internal': { allowedCidrs: ['10.0.0.0/8'] },
      'PUT /v1/instances/{instanceId}/routes/public': { allowedCidrs: ['203.0.113.0/24'] },
      'PUT /v1/instances/{instanceId}/autoscaling-policy': {
        minBrokers: 1,
        maxBrokers: 3,
        minBandwidthMBps: 10,
        maxBandwidthMBps: 100,
      },
      'POST /v1/instances/{instanceId}/topics': { name: 'orders' },
      'PATCH /v1/instances/{instanceId}/topics/{topic}': { partitions: 9 },
      'POST /v1/instances/{instanceId}/users': { name: 'alice', password: 'password-1' },
      'POST /v1/instances/{instanceId}/acls': {
        resourceType: 'topic',
        resourceName: 'orders',
        principal: 'User:alice',
        operation: 'read',
      },
      'POST /v1/instances/{instanceId}/acls/delete': {
        resourceType: 'topic',
        resourceName: 'orders',
        principal: 'User:alice',
        operation: 'read',
      },
      'POST /v1/instances/{instanceId}/consumer-groups/{groupId}/reset-offsets': {
        topic: 'orders',
        to: 'earliest',
      },
      'POST /v1/accounts/{accountId}/api-keys': {},
      'POST /v1/instances/{instanceId}/topics/{topic}/messages': { value: 'hello' },
      'PUT /v1/zones/{zone}': { capacity: 1, agentUrl: 'http://127.0.0.1:2' },
      'PUT /v1/zones/{zone}/hosts/{host}': { capacity: 1, agentUrl: 'http://127.0.0.1:2' },
      'POST /v1/instances/{instanceId}/alarm-policies': {
        name: 'sneaky',
        metric: 'instance.bytes_in',
        comparison: '>',
        threshold: 1,
      },
      'PATCH /v1/instances/{instanceId}/alarm-policies/{alarmPolicyId}': { muted: true },
      'POST /v1/instances/{instanceId}/connectors': { ...sinkBody, name: 'sneaky' },
      'PUT /v1/instances/{instanceId}/connectors/{connectorId}/offsets': {
        partitions: [{ topic: 'orders', partition: 0, offset: 0 }],
      },
      'POST /v1/instances/{instanceId}/users/{user}/verify-password': { password: 'password-1' },
      'PATCH /v1/instances/{instanceId}/connectors/{connectorId}': { tasksMax: 2 },
      'POST /v1/instances/{instanceId}/connectors/{connectorId}/verify-secrets': {
        secrets: sinkBody.secrets,
      },
    };
    // The same names, and ids of the same kinds that exist nowhere.
    const missingIds: Record<string, string> = {
      ...ids,
      instanceId: newId('instance'),
      alarmPolicyId: newId('alarmPolicy'),
      connectorId: newId('connector'),
      channelId: newId('notificationChannel'),
      operationId: newId('operation'),
      subAccountId: newId('subAccount'),
      policyId: newId('policy'),
      keyId: newId('apiKey'),
      operatorKeyId: newId('operatorKey'),
      grantId: newId('grant'),
      accountId: newId('account'),
    };
    const secretsOf = (body: unknown) => JSON.stringify(body ?? null);
    // What a caller can compare: everything but the request's own id and path.
    const comparable = (r: { status: number; body: Record<string, unknown> }) => {
      const { requestId: _r, instance: _i, ...rest } = r.body ?? {};
      return { status: r.status, ...rest };
    };
    let checked = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (!path.includes('{')) continue;
      for (const [m, opDef] of Object.entries(methods)) {
        const method = m.toUpperCase();
        const route = `${method} ${path}`;
        const hasBody = !!opDef.requestBody;
        if (hasBody) expect(samples, `add a valid sample body for ${route}`).toHaveProperty([route]);
        const urlWith = (values: Record<string, string>) =>
          path.replace(/\{(\w+)\}/g, (_, n: string) => values[n] ?? 'x');
        const body = hasBody ? samples[route] : undefined;
        const existing = await other.client.call(method, urlWith(ids), body);
        const missing = await other.client.call(method, urlWith(missingIds), body);
        expect([404, 403], `${route} → ${existing.status} ${JSON.stringify(existing.body)}`).toContain(
          existing.status,
        );
        expect(comparable(existing), `${route}: existing and missing ids answer alike`).toEqual(
          comparable(missing),
        );
        // No id or name of the owner's appears in the answer.
        for (const secret of [
          ins.instance.id,
          ins.operation.id,
          alarm.id,
          connector.id,
          channel.id,
          sub.id,
          pol.id,
          key.id,
        ])
          expect(secretsOf(existing.body).replace(urlWith(ids), ''), route).not.toContain(secret);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
    // Nothing of the owner's changed.
    const still = (await owner.client.call('GET', `/v1/instances/${ins.instance.id}`)).body;
    expect(still.name).toBe('private');
  });
});
