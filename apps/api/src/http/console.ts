import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * Serves the web console's built files (apps/console/dist) under /console/. The console is a
 * client of /v1 like any other: it gets no route of its own. Nothing is served when it was not
 * built, so the API runs without it.
 */
export async function serveConsole(app: FastifyInstance, dir: string): Promise<boolean> {
  if (!existsSync(join(dir, 'index.html'))) return false;
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/console/',
    decorateReply: false,
    // Hashed asset names change with their content: cache them for good; index.html never.
    setHeaders(res, path) {
      res.header(
        'cache-control',
        path.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
      );
      res.header('x-content-type-options', 'nosniff');
      // Same-origin only: the console calls the API it was served by and loads nothing else.
      res.header(
        'content-security-policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
      );
    },
  });
  app.get('/console', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/console/', 301));
  return true;
}
