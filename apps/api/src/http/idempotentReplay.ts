import { Problem } from '@fjord/contracts';
import fp from 'fastify-plugin';
import { type IdempotencyStore, requestHash, validateKey } from './idempotency.js';

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: { scope: string; key: string; release: () => void } | null;
  }
}

export interface IdempotentReplayOptions {
  readonly store: IdempotencyStore;
}

/**
 * `Idempotency-Key` on authenticated POSTs (see IdempotencyStore): claims the key before the
 * handler, replays a stored answer, stores the answer when sent. Registered after authentication
 * in the same scope, since keys are scoped to the principal.
 */
export const idempotentReplay = fp<IdempotentReplayOptions>(
  async (app, { store }) => {
    if (!app.hasRequestDecorator('idempotency')) app.decorateRequest('idempotency', null);

    // Every POST of the scope can answer what this plugin answers: documented where they happen.
    app.addHook('onRoute', (route) => {
      const response = route.schema?.response as Record<number, unknown> | undefined;
      if (route.method === 'POST' && response)
        route.schema!.response = { 409: Problem, 422: Problem, ...response };
    });

    app.addHook('preHandler', async (req, reply) => {
      const key = req.headers['idempotency-key'];
      if (req.method !== 'POST' || typeof key !== 'string' || !req.principal) return;
      validateKey(key);
      const scope = req.principal.id;
      const claim = await store.claim(scope, key, requestHash(req.method, req.url, req.body));
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
      req.idempotency = { scope, key, release: claim.release };
    });

    app.addHook('onSend', async (req, reply, payload) => {
      if (req.idempotency && reply.getHeader('idempotent-replayed') === undefined) {
        const { scope, key, release } = req.idempotency;
        req.idempotency = null;
        release();
        try {
          await store.complete(scope, key, reply.statusCode, reply.getHeaders(), String(payload ?? ''));
        } catch (err) {
          req.log.warn({ err }, 'could not store the idempotent response');
        }
      }
      return payload;
    });
  },
  { name: 'fjord-idempotent-replay' },
);
