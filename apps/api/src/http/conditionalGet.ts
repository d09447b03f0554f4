import fp from 'fastify-plugin';
import { z } from 'zod';

/**
 * `If-None-Match` on reads (RFC 9110 §13.1.2): a GET whose answer carries an ETag that the
 * request names (weak comparison, or `*`) is answered 304 without a body, so a poller that
 * already has the resource pays for the lookup, not the transfer.
 */
export const conditionalGet = fp(
  async (app) => {
    app.addHook('onRoute', (route) => {
      const response = route.schema?.response as Record<number, unknown> | undefined;
      if (route.method === 'GET' && response?.[200])
        route.schema!.response = {
          ...response,
          304: z.null().describe('Not Modified: the If-None-Match ETag is current'),
        };
    });

    app.addHook('onSend', async (req, reply, payload) => {
      const wanted = req.headers['if-none-match'];
      const etag = reply.getHeader('etag');
      if (
        req.method !== 'GET' ||
        reply.statusCode !== 200 ||
        typeof wanted !== 'string' ||
        typeof etag !== 'string'
      )
        return payload;
      if (!matchesWeakly(wanted, etag)) return payload;
      reply.code(304);
      reply.removeHeader('content-type');
      reply.removeHeader('content-length');
      return null;
    });
  },
  { name: 'conditional-get' },
);

/** If-None-Match's weak comparison: `W/"5"` and `"5"` name the same version. */
export function matchesWeakly(header: string, etag: string): boolean {
  const opaque = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || opaque(t) === opaque(etag));
}
