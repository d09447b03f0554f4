import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { ErrorCode } from '@fjord/contracts';
import type { PrismaClient } from '@fjord/db';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Pool } from 'pg';
import type { LoggerOptions } from 'pino';
import { Access } from './access/access.js';
import { type Principal, rateLimitKeyOf } from './auth/principal.js';
import { InvalidToken, type TokenService } from './auth/tokens.js';
import { IdempotencyStore, requestHash, validateKey } from './http/idempotency.js';
import { type RateLimitSettings, TokenBuckets } from './http/rateLimiter.js';
import { ApiMetrics } from './http/requestMetrics.js';
import { isBackendUnavailable } from './http/unavailable.js';
import { ApiProblem, type FieldIssue, problemBody } from './problem.js';
import { registerRoutes } from './routes/index.js';
import { internalRoutes } from './routes/internal.js';
import type { ClusterAdmin } from './services/clusterAdmin.js';
import type { MetricsReader } from './services/metricsQuery.js';
import type { OperationQueue } from './services/operationQueue.js';

export interface ApiDeps {
  readonly prisma: PrismaClient;
  /** node-postgres pool for hot reads (same database). */
  readonly pool: Pool;
  readonly queue: OperationQueue;
  readonly tokens: TokenService;
  readonly rateLimit: RateLimitSettings;
  /** Reads topics (and the like) from the instance's cluster itself. */
  readonly cluster: ClusterAdmin;
  /** Seals secrets (SASL passwords) that operations carry to the worker. */
  readonly adminSecret: string;
  /** Charts from the control plane's Prometheus; monitoring routes answer 503 without it. */
  readonly metrics?: MetricsReader;
  /** Token of the monitoring stack's `/internal/*` routes; they do not exist without it. */
  readonly internalToken?: string;
  readonly logger?: LoggerOptions | false;
}

export type ZodApp = FastifyInstance & { withTypeProvider: FastifyInstance['withTypeProvider'] };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    idempotency: { scope: string; key: string } | null;
  }
}

const PUBLIC_PATHS = new Set(['/v1/auth/token']);

function validationIssues(err: { validation?: unknown; validationContext?: string }): FieldIssue[] {
  const ctx = err.validationContext ?? 'body';
  const prefix = ctx === 'body' ? '' : ctx === 'querystring' ? 'query' : ctx;
  const list = (err.validation as { instancePath: string; message?: string; keyword: string }[]) ?? [];
  return list.map((v) => ({
    path: `${prefix}${v.instancePath}`,
    message: v.message ?? 'invalid',
    code: v.keyword,
  }));
}

export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new ApiProblem('unauthenticated', 'a bearer token is required');
  return req.principal;
}

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Long path params reach validation (400 problem) instead of the router's bare 414.
    routerOptions: { maxParamLength: 2048 },
    // Errors raised before routing (bad URL encoding, …) become problems too.
    frameworkErrors: (err, req, res) => {
      (res as unknown as FastifyReply)
        .code(400)
        .type('application/problem+json')
        .send(problemBody('malformed_request', 400, err.message, req.url.split('?')[0]!, req.id));
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('principal', null);
  app.decorateRequest('idempotency', null);
  const apiMetrics = new ApiMetrics();
  apiMetrics.observe(app);

  const sendProblem = (
    req: FastifyRequest,
    reply: FastifyReply,
    code: ErrorCode,
    status: number,
    detail: string,
    extra: { errors?: FieldIssue[]; operationId?: string } = {},
  ) =>
    reply
      .code(status)
      .type('application/problem+json')
      .send(problemBody(code, status, detail, req.url.split('?')[0]!, req.id, extra));

  app.setErrorHandler((err, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err))
      return sendProblem(req, reply, 'validation_failed', 400, 'the request does not match the schema', {
        errors: validationIssues(err as unknown as { validation: unknown; validationContext?: string }),
      });
    if (err instanceof ApiProblem) {
      for (const [k, v] of Object.entries(err.extra.headers ?? {})) reply.header(k, v);
      if (err.status === 401) reply.header('www-authenticate', 'Bearer');
      return sendProblem(req, reply, err.code, err.status, err.message, err.extra);
    }
    // A unique index lost a race that the route's own check could not see (two creates at once).
    if ((err as { code?: string }).code === 'P2002')
      return sendProblem(req, reply, 'name_taken', 409, 'a resource with this name exists');
    if (isBackendUnavailable(err)) {
      req.log.warn({ err }, 'backing service unavailable');
      reply.header('retry-after', '2');
      return sendProblem(
        req,
        reply,
        'service_unavailable',
        503,
        'a backing service is unavailable; retry shortly',
      );
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500)
      return sendProblem(req, reply, 'malformed_request', status, (err as Error).message);
    req.log.error({ err }, 'unhandled error');
    return sendProblem(req, reply, 'internal', 500, 'internal error');
  });
  app.setNotFoundHandler((req, reply) =>
    sendProblem(req, reply, 'not_found', 404, `no route ${req.method} ${req.url.split('?')[0]}`),
  );

  const buckets = new TokenBuckets(deps.rateLimit);
  const idempotency = new IdempotencyStore(deps.prisma);

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    const path = req.url.split('?')[0]!;
    if (!path.startsWith('/v1/')) return;
    let limitKey: string;
    if (PUBLIC_PATHS.has(path)) limitKey = `ip/${req.ip}`;
    else {
      const header = req.headers.authorization;
      const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
      if (!token) throw new ApiProblem('unauthenticated', 'a bearer token is required (POST /v1/auth/token)');
      try {
        req.principal = deps.tokens.verify(token);
      } catch (e) {
        if (e instanceof InvalidToken) throw new ApiProblem('unauthenticated', `invalid token: ${e.message}`);
        throw e;
      }
      limitKey = rateLimitKeyOf(req.principal);
    }
    const d = buckets.take(limitKey, Date.now());
    reply.header('ratelimit-limit', d.limit);
    reply.header('ratelimit-remaining', d.remaining);
    reply.header('ratelimit-reset', d.resetSeconds);
    if (!d.allowed)
      throw new ApiProblem('rate_limited', `rate limit of ${deps.rateLimit.ratePerSecond}/s exceeded`, {
        headers: { 'retry-after': String(d.retryAfterSeconds) },
      });
  });

  app.addHook('preHandler', async (req, reply) => {
    const key = req.headers['idempotency-key'];
    if (req.method !== 'POST' || typeof key !== 'string' || !req.principal) return;
    validateKey(key);
    const scope = req.principal.id;
    const claim = await idempotency.claim(scope, key, requestHash(req.method, req.url, req.body));
    if (claim.kind === 'replay') {
      const r = claim.response;
      for (const [k, v] of Object.entries(r.headers)) reply.header(k, v);
      reply.header('idempotent-replayed', 'true');
      // Bypass the route serializer: the stored body is already the serialized response.
      return reply
        .code(r.status)
        .serializer((p: unknown) => p as string)
        .send(r.body);
    }
    req.idempotency = { scope, key };
  });

  app.addHook('onSend', async (req, reply, payload) => {
    if (req.idempotency && reply.getHeader('idempotent-replayed') === undefined) {
      const { scope, key } = req.idempotency;
      req.idempotency = null;
      try {
        await idempotency.complete(scope, key, reply.statusCode, reply.getHeaders(), String(payload ?? ''));
      } catch (err) {
        req.log.warn({ err }, 'could not store the idempotent response');
      }
    }
    return payload;
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Fjord control plane',
        version: '1.0.0',
        description:
          'Managed Kafka-compatible instances. Authenticate with POST /v1/auth/token, then send `Authorization: Bearer <token>`. ' +
          'Mutations answer 202 with an operation unless instant; errors are RFC 9457 problem+json with a stable `code`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  const access = new Access(deps.prisma);
  await app.register(async (scope) => {
    await registerRoutes(scope.withTypeProvider<ZodTypeProvider>(), { ...deps, access });
  });

  const { internalToken } = deps;
  if (internalToken) await app.register(internalRoutes, { ...deps, access, internalToken, apiMetrics });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (req, reply) => {
    try {
      await deps.prisma.$queryRaw`SELECT 1`;
      await deps.queue.ping();
      return { status: 'ready' };
    } catch (err) {
      reply.header('retry-after', '2');
      return sendProblem(req, reply, 'service_unavailable', 503, `not ready: ${(err as Error).message}`);
    }
  });
  return app;
}
