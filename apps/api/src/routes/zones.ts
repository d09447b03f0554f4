import {
  Host,
  HostId,
  type HostState,
  newId,
  Operation,
  PutHost,
  PutZone,
  planHostDrain,
  Zone,
  ZoneName,
} from '@fjord/contracts';
import type { Host as HostRow, Prisma } from '@fjord/db';
import { hostsWithUse, inTransactionWithOperation, roomOf } from '@fjord/provisioning';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../auth/principal.js';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { ApiProblem, notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { operationView } from '../views/operationView.js';
import { problems, type RouteDeps } from './common.js';

export type ZoneRoutesOptions = Pick<RouteDeps, 'prisma' | 'access' | 'queue'>;

/** The host `PUT /v1/zones/{zone}` registers: a zone with one agent needs no other. */
const DEFAULT_HOST = 'default';

const HostParams = z.object({ zone: ZoneName, host: HostId });

const hostView = (h: HostRow & { used: number }): Host => ({
  zone: h.zone,
  id: h.id,
  agentUrl: h.agentUrl,
  capacity: h.capacity,
  used: h.used,
  state: h.state as HostState,
});

/** A zone's capacity is its active hosts'; `used` counts its brokers wherever they run. */
function zoneView(name: string, hosts: readonly (HostRow & { used: number })[]): Zone {
  const own = hosts.filter((h) => h.zone === name);
  return {
    name,
    capacity: own.filter((h) => h.state === 'active').reduce((n, h) => n + h.capacity, 0),
    used: own.reduce((n, h) => n + h.used, 0),
  };
}

export const zoneRoutes: FastifyPluginAsyncZod<ZoneRoutesOptions> = async (app, deps) => {
  const { prisma, access, queue } = deps;

  /** Registers or updates a host; the zone row is created with its first host. */
  const putHost = async (
    tx: Prisma.TransactionClient,
    zone: string,
    id: string,
    body: { capacity: number; agentUrl: string; state?: HostState },
  ) => {
    await tx.zone.upsert({ where: { name: zone }, create: { name: zone }, update: {} });
    await tx.host.upsert({ where: { zone_id: { zone, id } }, create: { zone, id, ...body }, update: body });
  };

  app.put(
    '/v1/zones/:zone',
    {
      schema: {
        tags: ['zones'],
        summary: 'Register or update an availability zone and its default host; operator only',
        params: z.object({ zone: ZoneName }),
        body: PutZone,
        response: { 200: Zone, ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      access.requireOperator(p);
      await prisma.$transaction(async (tx) => {
        await putHost(tx, req.params.zone, DEFAULT_HOST, req.body);
        await recordAudit(tx, p, {
          accountId: null,
          action: 'PutZone',
          resource: `zone/${req.params.zone}`,
          details: req.body,
        });
      });
      return zoneView(req.params.zone, await hostsWithUse(prisma, [req.params.zone]));
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
      const zones = await prisma.zone.findMany({ orderBy: { name: 'asc' } });
      const hosts = await hostsWithUse(
        prisma,
        zones.map((z) => z.name),
      );
      return { items: zones.map((z) => zoneView(z.name, hosts)), nextCursor: null };
    },
  );

  app.put(
    '/v1/zones/:zone/hosts/:host',
    {
      schema: {
        tags: ['zones'],
        summary: 'Register or update a host of a zone (its zone agent and broker slots); operator only',
        params: HostParams,
        body: PutHost,
        response: { 200: Host, ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      access.requireOperator(p);
      const { zone, host } = req.params;
      await prisma.$transaction(async (tx) => {
        await putHost(tx, zone, host, req.body);
        await recordAudit(tx, p, {
          accountId: null,
          action: 'PutHost',
          resource: `zone/${zone}/host/${host}`,
          details: req.body,
        });
      });
      return hostView((await hostsWithUse(prisma, [zone])).find((h) => h.id === host)!);
    },
  );

  app.get(
    '/v1/zones/:zone/hosts',
    {
      schema: {
        tags: ['zones'],
        summary: 'List the hosts of a zone with their capacity and use; operator only',
        params: z.object({ zone: ZoneName }),
        response: { 200: z.object({ items: z.array(Host), nextCursor: z.null() }), ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      access.requireOperator(p);
      if (!(await prisma.zone.findUnique({ where: { name: req.params.zone } })))
        throw notFound(`zone ${req.params.zone}`);
      return { items: (await hostsWithUse(prisma, [req.params.zone])).map(hostView), nextCursor: null };
    },
  );

  app.post(
    '/v1/zones/:zone/hosts/:host/drain',
    {
      schema: {
        tags: ['zones'],
        summary:
          'Drain a host for maintenance: it takes no new brokers and its brokers move, one at a time, to other hosts of the zone (202: poll the operation); operator only',
        params: HostParams,
        response: { 202: Operation, ...problems(409, 422) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      access.requireOperator(p);
      const { zone, host } = req.params;
      const target = `zone/${zone}/host/${host}`;
      const { operation } = await inTransactionWithOperation(prisma, queue, async (tx) => {
        // The same lock placement takes: no create can take the slots this drain counts on.
        await tx.$queryRaw`SELECT name FROM "Zone" WHERE name = ${zone} FOR UPDATE`;
        const hosts = await hostsWithUse(tx, [zone]);
        if (!hosts.some((h) => h.id === host)) throw notFound(`host ${host} of zone ${zone}`);
        const running = await tx.operation.findFirst({
          where: { target, status: { in: ['PENDING', 'RUNNING'] } },
        });
        if (running)
          throw new ApiProblem('operation_in_progress', `operation ${running.id} is draining this host`, {
            operationId: running.id,
          });
        const brokers = await tx.brokerPlacement.findMany({
          where: { zone, hostId: host },
          orderBy: [{ instanceId: 'asc' }, { brokerId: 'asc' }],
        });
        // Instance flows own their brokers while they run (as they do for the health reconciler).
        const busy = await tx.operation.findFirst({
          where: {
            instanceId: { in: [...new Set(brokers.map((b) => b.instanceId))] },
            instanceWide: true,
            status: { in: ['PENDING', 'RUNNING'] },
          },
        });
        if (busy)
          throw new ApiProblem(
            'operation_in_progress',
            `operation ${busy.id} (${busy.kind}) is running on instance ${busy.instanceId}, which has brokers on this host; retry when it finishes`,
            { operationId: busy.id },
          );
        const plan = planHostDrain(
          brokers,
          hosts.filter((h) => h.id !== host && h.state === 'active').map(roomOf),
        );
        if (!plan.ok) throw new ApiProblem('unprocessable', `host ${host} cannot be drained: ${plan.reason}`);
        await tx.host.update({ where: { zone_id: { zone, id: host } }, data: { state: 'draining' } });
        const operation = await tx.operation.create({
          data: {
            id: newId('operation'),
            accountId: '',
            kind: 'host.drain',
            target,
            input: { zone, host },
            actor: actorOf(p),
          },
        });
        await recordAudit(tx, p, {
          accountId: null,
          action: 'DrainHost',
          resource: target,
          details: { brokers: brokers.length, operationId: operation.id },
        });
        return { operation };
      });
      reply.code(202).header('location', `/v1/operations/${operation.id}`);
      return operationView(operation);
    },
  );
};
