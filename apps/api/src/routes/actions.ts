import { ACTIONS, ActionEntry, serviceOf } from '@fjord/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { problems } from './common.js';

const catalogue = ACTIONS.map((name) => ({ name, service: serviceOf(name) }));

/** The action catalogue: what policies and grants may name (their patterns must cover one). */
export const actionRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/v1/actions',
    {
      schema: {
        tags: ['policies'],
        summary: 'Every action policies and grants can name; an action pattern must match at least one',
        response: { 200: z.object({ items: z.array(ActionEntry) }), ...problems() },
      },
    },
    async (req) => {
      requirePrincipal(req);
      return { items: catalogue };
    },
  );
};
