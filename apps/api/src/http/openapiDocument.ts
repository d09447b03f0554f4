/**
 * Finishing touches on the generated OpenAPI document for code generators (issue 16): every
 * operation gets a stable operationId, error responses are typed `application/problem+json` (what
 * the API sends), responses say what their status means instead of "Default Response", and the
 * protocol headers the plugins add (Idempotency-Key, If-Match, ETag, Retry-After, RateLimit-*)
 * are documented where they apply, since no route schema declares them.
 */

interface ResponseObject {
  description?: string;
  content?: Record<string, unknown>;
  headers?: Record<string, unknown>;
}
interface ParameterObject {
  in?: string;
  name?: string;
  description?: string;
  required?: boolean;
  schema?: unknown;
  $ref?: string;
}
interface OperationObject {
  operationId?: string;
  parameters?: ParameterObject[];
  responses?: Record<string, ResponseObject>;
  security?: unknown[];
}
interface OpenApiDocument {
  paths?: Record<string, Record<string, OperationObject>>;
  components?: Record<string, Record<string, unknown>>;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

const pascal = (s: string) =>
  s
    .split(/[-_.]/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

/**
 * `GET /v1/instances/{instanceId}/topics` → `getInstancesByInstanceIdTopics`: the method, then each
 * path segment (parameters as `By<Name>`), without the version. Derived from what makes the route
 * unique, so it is unique and stays stable as long as the route does.
 */
export function operationIdOf(method: string, path: string): string {
  const segments = path
    .split('/')
    .filter((s) => s && s !== 'v1')
    .map((s) => (s.startsWith('{') ? `By${pascal(s.slice(1, -1))}` : pascal(s)));
  return method.toLowerCase() + segments.join('');
}

const DESCRIPTIONS: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted: an operation runs; poll it at the Location header',
  204: 'No Content',
  304: 'Not Modified',
  400: 'The request does not match the schema (errors[] names each field) or is malformed',
  401: 'No valid bearer token',
  403: 'The caller may not do this',
  404: 'No such resource (or not visible to the caller)',
  409: 'Conflicts with the current state (another operation, a taken name, …)',
  412: 'If-Match does not match the current ETag',
  422: 'Well-formed but cannot be done (placement, quotas, state)',
  428: 'This request needs If-Match',
  429: 'Rate limited: retry after Retry-After seconds',
  500: 'Internal error',
  501: 'Not supported by the brokers',
  502: "The instance's brokers did not answer as expected",
  503: 'A backing service is unavailable: retry after Retry-After seconds',
};

const HEADERS = {
  ETag: {
    description:
      'Strong validator of the version returned; send it as If-Match to change exactly this version',
    schema: { type: 'string' },
  },
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
  'RateLimit-Limit': { description: "The caller's request budget (burst)", schema: { type: 'integer' } },
  'RateLimit-Remaining': { description: 'Requests left in the budget now', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'Seconds until the budget is full again', schema: { type: 'integer' } },
} as const;

const PARAMETERS = {
  IdempotencyKey: {
    in: 'header',
    name: 'Idempotency-Key',
    required: false,
    description:
      'Any 1-255 visible ASCII characters: a retry with the same key and request gets the first answer again (24 h); ' +
      'a different request with the key is 422; a retry while the first still runs is 409 with Retry-After',
    schema: { type: 'string', minLength: 1, maxLength: 255 },
  },
} as const;

const IF_MATCH =
  'The ETag last read: the change applies only to that version (412 otherwise); `*` matches any version';

const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

/** Adds the protocol headers of the plugins (see the module comment) to one operation. */
function documentHeaders(method: string, op: OperationObject, etagged: boolean): void {
  const authenticated = op.security === undefined || op.security.length > 0;
  const ifMatch = op.parameters?.find((p) => p.in === 'header' && p.name === 'if-match');
  if (ifMatch) ifMatch.description ??= IF_MATCH;
  if (method === 'post' && authenticated)
    op.parameters = [...(op.parameters ?? []), ref('parameters', 'IdempotencyKey')];
  for (const [status, response] of Object.entries(op.responses ?? {})) {
    const code = Number(status);
    const headers: Record<string, unknown> = { ...(response.headers ?? {}) };
    if (authenticated)
      for (const h of ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'])
        headers[h] = ref('headers', h);
    if (code === 429 || code === 503 || (code === 409 && method === 'post'))
      headers['Retry-After'] = ref('headers', 'Retry-After');
    if (etagged && code >= 200 && code < 300) headers.ETag = ref('headers', 'ETag');
    if (Object.keys(headers).length > 0) response.headers = headers;
  }
}

export function forCodeGenerators<T>(doc: T): T {
  const d = doc as OpenApiDocument;
  const paths = d.paths ?? {};
  d.components = { ...(d.components ?? {}), headers: { ...HEADERS }, parameters: { ...PARAMETERS } };
  for (const [path, methods] of Object.entries(paths)) {
    // A resource with a version (some method takes If-Match) answers with its ETag.
    const etagged = Object.values(methods).some((op) =>
      op.parameters?.some((p) => p.in === 'header' && p.name === 'if-match'),
    );
    for (const [method, op] of Object.entries(methods)) {
      if (!METHODS.has(method)) continue;
      op.operationId ??= operationIdOf(method, path);
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        if (response.description === 'Default Response' && DESCRIPTIONS[status])
          response.description = DESCRIPTIONS[status];
        const json = response.content?.['application/json'];
        if (Number(status) >= 400 && json !== undefined && response.content) {
          response.content = { 'application/problem+json': json };
        }
      }
      documentHeaders(method, op, etagged && method !== 'delete');
    }
  }
  return doc;
}
