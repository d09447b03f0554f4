/**
 * Finishing touches on the generated OpenAPI document for code generators (issue 16): every
 * operation gets a stable operationId, error responses are typed `application/problem+json` (what
 * the API sends), and responses say what their status means instead of "Default Response".
 */

interface ResponseObject {
  description?: string;
  content?: Record<string, unknown>;
}
interface OperationObject {
  operationId?: string;
  responses?: Record<string, ResponseObject>;
}
interface OpenApiDocument {
  paths?: Record<string, Record<string, OperationObject>>;
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

export function forCodeGenerators<T>(doc: T): T {
  const paths = (doc as OpenApiDocument).paths ?? {};
  for (const [path, methods] of Object.entries(paths))
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
    }
  return doc;
}
