import { randomUUID } from 'node:crypto';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { ERROR_CODES, type ErrorCode } from '@fjord/contracts';
import { Refusal } from '@fjord/provisioning';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { Access } from './access/access.js';
import { actorOf, rateLimitKeyOf } from './auth/principal.js';
import type { ApiDeps } from './deps.js';
import { authenticate } from './http/authentication.js';
import { serveConsole } from './http/console.js';
import { forCodeGenerators } from './http/openapiDocument.js';
import { spendToken } from './http/rateLimit.js';
import { TokenBuckets } from './http/rateLimiter.js';
import { ApiMetrics } from './http/requestMetrics.js';
import { isBackendUnavailable } from './http/unavailable.js';
import { ApiProblem, type FieldIssue, problemBody } from './problem.js';
import { v1Routes } from './routes/index.js';
import { internalRoutes } from './routes/internal.js';
import { recordAttempt } from './services/audit.js';

export type { ApiDeps } from './deps.js';

interface SchemaIssue {
  instancePath: string;
  message?: string;
  keyword: string;
  params?: { keys?: unknown };
}

function validationIssues(err: { validation?: unknown; validationContext?: string }): FieldIssue[] {
  const ctx = err.validationContext ?? 'body';
  const prefix = ctx === 'body' ? '' : ctx === 'querystring' ? 'query' : ctx;
  const list = (err.validation as SchemaIssue[]) ?? [];
  return list.flatMap((v) => {
    // Unknown fields are named one by one, each at its own path, so that a client sees which
    // field it misspelled rather than the object that holds it.
    const keys = v.keyword === 'unrecognized_keys' ? v.params?.keys : undefined;
    if (Array.isArray(keys) && keys.length > 0) {
      const parent = v.instancePath === '/' ? '' : v.instancePath;
      return keys.map((k) => ({
        path: `${prefix}${parent}/${String(k)}`,
        message: `unknown field '${String(k)}'`,
        code: 'unknown_field',
      }));
    }
    return [{ path: `${prefix}${v.instancePath}`, message: v.message ?? 'invalid', code: v.keyword }];
  });
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
  // Declared here too so that every request (404s included) has the shape the plugins declare.
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

  // A refused attempt (403) is an audit event of the caller's account: who tried what.
  const recordRefusal = async (req: FastifyRequest, problem: ApiProblem) => {
    const p = req.principal;
    if (!p) return;
    const route = req.routeOptions.url ?? req.url.split('?')[0]!;
    try {
      await recordAttempt(deps.prisma, actorOf(p), 'DENIED', {
        accountId: p.kind === 'operator' ? null : p.accountId,
        action: problem.extra.refused?.action ?? `${req.method} ${route}`,
        resource: problem.extra.refused?.resource ?? req.url.split('?')[0]!,
        details: { method: req.method, route, reason: problem.message },
      });
    } catch (err) {
      req.log.warn({ err }, 'could not record the refused attempt');
    }
  };

  app.setErrorHandler(async (err, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err))
      return sendProblem(req, reply, 'validation_failed', 400, 'the request does not match the schema', {
        errors: validationIssues(err as unknown as { validation: unknown; validationContext?: string }),
      });
    if (err instanceof ApiProblem) {
      if (err.status === 403) await recordRefusal(req, err);
      if (err.extra.cause !== undefined) req.log.warn({ err: err.extra.cause, code: err.code }, err.message);
      for (const [k, v] of Object.entries(err.extra.headers ?? {})) reply.header(k, v);
      if (err.status === 401) reply.header('www-authenticate', 'Bearer');
      return sendProblem(req, reply, err.code, err.status, err.message, err.extra);
    }
    // Refusals of the shared provisioning checks (resize admission, operation conflicts).
    if (err instanceof Refusal)
      return sendProblem(req, reply, err.code, ERROR_CODES[err.code], err.message, {
        ...(err.extra.errors ? { errors: [...err.extra.errors] } : {}),
        ...(err.extra.operationId ? { operationId: err.extra.operationId } : {}),
      });
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
  const buckets = new TokenBuckets(deps.rateLimit);
  const publicPaths = new Set<string>();
  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0]!;
    // An unknown /v1 route answers as its scope would: a public path (another method) spends the
    // address's budget; any other needs a valid token (401) and spends the caller's budget.
    if (path.startsWith('/v1/'))
      spendToken(
        buckets,
        publicPaths.has(path) ? `ip/${req.ip}` : rateLimitKeyOf(authenticate(deps.tokens, req)),
        reply,
      );
    return sendProblem(req, reply, 'not_found', 404, `no route ${req.method} ${path}`);
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
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
    transformObject: (input) => forCodeGenerators(jsonSchemaTransformObject(input)),
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  const access = new Access(deps.prisma);
  await app.register(v1Routes, {
    prisma: deps.prisma,
    pool: deps.pool,
    queue: deps.queue,
    cluster: deps.cluster,
    tokens: deps.tokens,
    adminSecret: deps.adminSecret,
    sharedLimits: deps.sharedLimits,
    tokenExchangeLimits: deps.tokenExchangeLimits,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(deps.webhookAllowedNetworks ? { webhookAllowedNetworks: deps.webhookAllowedNetworks } : {}),
    ...(deps.connectorAllowedNetworks ? { connectorAllowedNetworks: deps.connectorAllowedNetworks } : {}),
    access,
    buckets,
    publicPaths,
  });
  if (deps.internalToken)
    await app.register(internalRoutes, {
      prisma: deps.prisma,
      pool: deps.pool,
      internalToken: deps.internalToken,
      apiMetrics,
    });

  if (deps.consoleDir) await serveConsole(app, deps.consoleDir);

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
