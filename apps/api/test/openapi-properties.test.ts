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

function validArb(schema: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts) return fc.oneof(...alts.map((s) => arb(s, depth + 1)));
  if (schema.allOf) return arb(schema.allOf[0]!, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      if (depth > 3 || !schema.properties) return fc.constant({});
      const required = new Set(schema.required ?? []);
      const entries = Object.entries(schema.properties);
      return fc.record(Object.fromEntries(entries.map(([k, v]) => [k, arb(v, depth + 1)])), {
        requiredKeys: entries.map(([k]) => k).filter((k) => required.has(k)),
      });
    }
    case 'array':
      return fc.array(schema.items ? arb(schema.items, depth + 1) : fc.anything(), { maxLength: 3 });
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

describe('requests generated from the OpenAPI document', () => {
  it('never answer 5xx and only answer documented status codes', async () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
    );
    expect(operations.length).toBeGreaterThan(30);
    for (const { path, method, op } of operations) {
      const params = op.parameters ?? [];
      const bodySchema = op.requestBody?.content['application/json']?.schema;
      const request = fc.record({
        path: fc.record(
          Object.fromEntries(params.filter((p) => p.in === 'path').map((p) => [p.name, arb(p.schema)])),
        ),
        query: fc.record(
          Object.fromEntries(params.filter((p) => p.in === 'query').map((p) => [p.name, arb(p.schema)])),
          { requiredKeys: [] },
        ),
        body: bodySchema ? arb(bodySchema) : fc.constant(undefined),
      });
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
          const reply = await root.call(method, url, r.body);
          const documented = Object.keys(op.responses).map(Number);
          if (reply.status >= 500 || !documented.includes(reply.status))
            throw new Error(
              `${method} ${url} ${JSON.stringify(r.body)} → ${reply.status} ${JSON.stringify(reply.body)} (documented: ${documented})`,
            );
        }),
        { numRuns: 15 },
      );
    }
  }, 240_000);
});

describe('tenant isolation across every route', () => {
  it("another tenant's resources answer 404 (or 403 for operator-only routes) on every route that names one", async () => {
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
        url: 'http://127.0.0.1:9/hook',
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
    const ids: Record<string, string> = {
      instanceId: ins.instance.id,
      metric: 'instance.bytes_in',
      alarmPolicyId: alarm.id,
      channelId: channel.id,
      operationId: ins.operation.id,
      subAccountId: sub.id,
      policyId: pol.id,
      keyId: key.id,
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
        partition: '0',
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
    };
    let checked = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (!path.includes('{')) continue;
      for (const [m, opDef] of Object.entries(methods)) {
        const method = m.toUpperCase();
        const route = `${method} ${path}`;
        const hasBody = !!opDef.requestBody;
        if (hasBody) expect(samples, `add a valid sample body for ${route}`).toHaveProperty([route]);
        const url = path.replace(/\{(\w+)\}/g, (_, n: string) => ids[n] ?? 'x');
        const r = await other.client.call(method, url, hasBody ? samples[route] : undefined);
        expect([404, 403], `${route} → ${r.status} ${JSON.stringify(r.body)}`).toContain(r.status);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
    // Nothing of the owner's changed.
    const still = (await owner.client.call('GET', `/v1/instances/${ins.instance.id}`)).body;
    expect(still.name).toBe('private');
  });
});
