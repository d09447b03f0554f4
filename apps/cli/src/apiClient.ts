import createClient, { type Client, type ClientPathsWithMethod, type MaybeOptionalInit } from 'openapi-fetch';
import type { components, paths } from './generated/api.js';

/** The typed client generated from the API's own OpenAPI document (see package.json's build). */
export type FjordClient = Client<paths>;
export type Problem = components['schemas']['Problem'];

export function fjordClient(baseUrl: string, token: () => Promise<string>): FjordClient {
  const client = createClient<paths>({ baseUrl });
  client.use({
    async onRequest({ request }) {
      request.headers.set('authorization', `Bearer ${await token()}`);
      return request;
    },
  });
  return client;
}

/** A problem+json answer, kept whole: callers branch on `status` and `code` (412, 409, …). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem> & Record<string, unknown>,
    what: string,
  ) {
    super(
      `${what}: ${status} ${String(problem.code ?? '')} ${String(problem.detail ?? problem.title ?? '')}`.trim(),
    );
  }
  get code(): string | undefined {
    return typeof this.problem.code === 'string' ? this.problem.code : undefined;
  }
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The answer's data, or an ApiError naming what was asked. */
export async function must<T>(
  what: string,
  call: Promise<Answer<T>>,
): Promise<{ data: T; response: Response }> {
  const r = await call;
  if (!r.response.ok || (r.data === undefined && r.response.status !== 204))
    throw new ApiError(r.response.status, (r.error ?? {}) as ApiError['problem'], what);
  return { data: r.data as T, response: r.response };
}

/** What the typed client answers: `data` on 2xx, the parsed problem+json as `error` otherwise. */
export interface ApiAnswer {
  readonly data?: unknown;
  readonly error?: unknown;
  readonly response: Response;
}

type Method = 'get' | 'put' | 'post' | 'patch' | 'delete';
type Send<M extends Method> = <P extends ClientPathsWithMethod<FjordClient, M>>(
  path: P,
  init: MaybeOptionalInit<paths[P], M>,
) => Promise<ApiAnswer>;

/** The client's methods with `init` checked exactly against the path's schema. */
export interface StrictClient {
  readonly GET: Send<'get'>;
  readonly PUT: Send<'put'>;
  readonly POST: Send<'post'>;
  readonly PATCH: Send<'patch'>;
  readonly DELETE: Send<'delete'>;
}

/**
 * openapi-fetch infers `init` as a type parameter, so TypeScript skips its excess-property
 * check and a misspelt optional field (`brokerCont`) compiles. Here `init` has the path's own
 * type, so it does not; the call underneath is the same.
 */
export function strictClient(api: FjordClient): StrictClient {
  return {
    GET: (path, init) => api.GET(path, init as never),
    PUT: (path, init) => api.PUT(path, init as never),
    POST: (path, init) => api.POST(path, init as never),
    PATCH: (path, init) => api.PATCH(path, init as never),
    DELETE: (path, init) => api.DELETE(path, init as never),
  };
}
