import { PutZone, Zone, ZoneName } from '@fjord/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { recordAudit } from '../services/audit.js';
import { problems, type RouteDeps } from './common.js';

export type ZoneRoutesOptions = Pick<RouteDeps, 'prisma' | 'access'>;

export const zoneRoutes: FastifyPluginAsyncZod<ZoneRoutesOptions> = async (app, deps) => {
  const { prisma, access } = deps;
  const usedByZone = async () => {
    const rows = await prisma.brokerPlacement.groupBy({ by: ['zone'], _count: { _all: true } });
    return new Map(rows.map((r) => [r.zone, r._count._all]));
  };

  app.put(
    '/v1/zones/:zone',
    {
      schema: {
        tags: ['zones'],
        summary: 'Register or update an availability zone and its agent; operator only',
        params: z.object({ zone: ZoneName }),
        body: PutZone,
        response: { 200: Zone, ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      access.requireOperator(p);
      const zone = await prisma.$transaction(async (tx) => {
        const z = await tx.zone.upsert({
          where: { name: req.params.zone },
          create: { name: req.params.zone, capacity: req.body.capacity, agentUrl: req.body.agentUrl },
          update: { capacity: req.body.capacity, agentUrl: req.body.agentUrl },
        });
        await recordAudit(tx, p, {
          accountId: null,
          action: 'PutZone',
          resource: `zone/${z.name}`,
          details: req.body,
        });
        return z;
      });
      return { name: zone.name, capacity: zone.capacity, used: (await usedByZone()).get(zone.name) ?? 0 };
    },
  );

  app.get(
    '/v1/zones',
    {
      schema: {
        tags: ['zones'],
        summary: 'List availability zones with their capacity',
        response: { 200: z.object({ items: z.array(Zone), nextCursor: z.null() }), ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      await access.require(p, 'kafka:ListZones', null, 'zone/*');
      const [zones, used] = await Promise.all([
        prisma.zone.findMany({ orderBy: { name: 'asc' } }),
        usedByZone(),
      ]);
      return {
        items: zones.map((z) => ({ name: z.name, capacity: z.capacity, used: used.get(z.name) ?? 0 })),
        nextCursor: null,
      };
    },
  );
};
