import { randomBytes } from 'node:crypto';
import {
  CreatedNotificationChannel,
  CreateNotificationChannel,
  channelId,
  NotificationChannel,
  newId,
  PageQuery,
  pageOf,
} from '@fjord/contracts';
import { seal } from '@fjord/fleet';
import { refusedWebhookUrl } from '@fjord/monitoring';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { decodeCursor, pageFrom } from '../http/pagination.js';
import { ApiProblem, notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { channelView } from '../views/alarmViews.js';
import { problems, type RouteDeps } from './common.js';

function accountOf(p: Principal): string {
  if (p.kind === 'operator')
    throw new ApiProblem('forbidden', 'notification channels belong to accounts; use an account key');
  return p.accountId;
}

/** Where alarm notifications go: signed webhooks, one set per account. */
export type ChannelRoutesOptions = Pick<
  RouteDeps,
  'prisma' | 'access' | 'adminSecret' | 'webhookAllowedNetworks'
>;

export const channelRoutes: FastifyPluginAsyncZod<ChannelRoutesOptions> = async (app, deps) => {
  const { prisma, access, adminSecret, webhookAllowedNetworks = [] } = deps;

  app.post(
    '/v1/notification-channels',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Create a webhook channel (its signing secret is shown only in this answer)',
        body: CreateNotificationChannel,
        response: { 201: CreatedNotificationChannel, ...problems(409) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const accountId = accountOf(p);
      await access.require(p, 'monitor:CreateChannel', accountId, 'channel/*');
      // Names are checked again at every delivery, on what they resolve to then.
      const refused = refusedWebhookUrl(new URL(req.body.url), webhookAllowedNetworks);
      if (refused)
        throw new ApiProblem('validation_failed', 'webhooks go to public addresses only', {
          errors: [{ path: '/url', message: refused, code: 'not_public' }],
        });
      const secret = `whsec_${randomBytes(24).toString('base64url')}`;
      const row = await prisma.$transaction(async (tx) => {
        const c = await tx.notificationChannel.create({
          data: {
            id: newId('notificationChannel'),
            accountId,
            name: req.body.name,
            type: req.body.type,
            url: req.body.url,
            sealedSecret: seal(secret, adminSecret),
          },
        });
        await recordAudit(tx, p, {
          accountId,
          action: 'CreateNotificationChannel',
          resource: `channel/${c.id}`,
          details: { name: c.name, url: c.url },
        });
        return c;
      });
      reply.code(201);
      return { ...channelView(row), secret };
    },
  );

  app.get(
    '/v1/notification-channels',
    {
      schema: {
        tags: ['alarms'],
        summary: 'List notification channels',
        querystring: PageQuery,
        response: { 200: pageOf(NotificationChannel), ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const accountId = accountOf(p);
      await access.require(p, 'monitor:ListChannels', accountId, 'channel/*');
      const after = decodeCursor(req.query.cursor);
      const rows = await prisma.notificationChannel.findMany({
        where: { accountId, deletedAt: null, ...(after ? { id: { gt: after } } : {}) },
        orderBy: { id: 'asc' },
        take: req.query.limit + 1,
      });
      const page = pageFrom(rows, req.query.limit, (r) => r.id);
      return { items: page.items.map(channelView), nextCursor: page.nextCursor };
    },
  );

  const load = async (p: Principal, id: string, action: 'monitor:ListChannels' | 'monitor:DeleteChannel') => {
    const accountId = accountOf(p);
    const row = await prisma.notificationChannel.findUnique({ where: { id } });
    if (!row || row.deletedAt || row.accountId !== accountId) throw notFound('notification channel');
    await access.require(p, action, accountId, `channel/${id}`);
    return row;
  };

  app.get(
    '/v1/notification-channels/:channelId',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Get a notification channel',
        params: z.object({ channelId }),
        response: { 200: NotificationChannel, ...problems() },
      },
    },
    async (req) =>
      channelView(await load(requirePrincipal(req), req.params.channelId, 'monitor:ListChannels')),
  );

  app.delete(
    '/v1/notification-channels/:channelId',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Delete a notification channel (policies naming it stop notifying it)',
        params: z.object({ channelId }),
        response: { 204: z.null(), ...problems() },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const row = await load(p, req.params.channelId, 'monitor:DeleteChannel');
      await prisma.$transaction(async (tx) => {
        await tx.notificationChannel.update({ where: { id: row.id }, data: { deletedAt: new Date() } });
        await recordAudit(tx, p, {
          accountId: row.accountId,
          action: 'DeleteNotificationChannel',
          resource: `channel/${row.id}`,
        });
      });
      return reply.code(204).send(null);
    },
  );
};
