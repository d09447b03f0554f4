import { isDeepStrictEqual } from 'node:util';
import {
  type AccessRoute,
  Instance,
  instanceId,
  Operation,
  RouteBodies,
  type RouteType,
  routeChangeNeedsRestart,
} from '@fjord/contracts';
import { inTransactionWithOperation } from '@fjord/provisioning';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { checkIfMatch, etagOf } from '../http/etag.js';
import { ApiProblem } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { caBundleCache } from '../services/caBundle.js';
import { createOperation } from '../services/operations.js';
import { type InstanceWithBrokers, instanceView, routesOf } from '../views/instanceView.js';
import { operationView } from '../views/operationView.js';
import { problems, type RouteDeps } from './common.js';
import { loadInstance } from './instances.js';

const Params = z.object({ instanceId });
const IfMatch = z.object({ 'if-match': z.string().max(200).optional() }).loose();
const Accepted = z.object({ instance: Instance, operation: Operation });

export type InstanceAccessRoutesOptions = Pick<RouteDeps, 'prisma' | 'pool' | 'access' | 'queue'>;

/**
 * An instance's access routes after create: `PUT /v1/instances/{id}/routes/{internal|public}`
 * adds or replaces one, `DELETE` removes it. Each change is an `instance.routes` operation;
 * allowlists change live, listeners by a rolling restart. Re-sending what is already there is
 * answered 200 with the instance unchanged (no operation, same ETag).
 */
export const instanceAccessRoutes: FastifyPluginAsyncZod<InstanceAccessRoutesOptions> = async (app, deps) => {
  const { prisma, access, queue } = deps;
  const caBundle = caBundleCache(prisma);

  async function change(
    p: Principal,
    row: InstanceWithBrokers,
    accessRoutes: AccessRoute[],
    audit: { action: string; details: Record<string, unknown> },
  ) {
    return inTransactionWithOperation(prisma, queue, async (tx) => {
      const current = await tx.instance.findUniqueOrThrow({ where: { id: row.id } });
      if (current.status !== 'RUNNING')
        throw new ApiProblem(
          'instance_not_ready',
          `instance is ${current.status.toLowerCase()}, not running`,
        );
      const operation = await createOperation(tx, p, {
        accountId: row.accountId,
        instanceId: row.id,
        kind: 'instance.routes',
        target: `instance/${row.id}`,
        input: { accessRoutes },
      });
      const restart = routeChangeNeedsRestart(routesOf(row), accessRoutes);
      await tx.instance.update({
        where: { id: row.id },
        data: {
          ...(restart ? { status: 'RESTARTING', statusReason: 'changing access routes' } : {}),
          version: { increment: 1 },
        },
      });
      await recordAudit(tx, p, {
        accountId: row.accountId,
        action: audit.action,
        resource: `instance/${row.id}`,
        details: { ...audit.details, operationId: operation.id },
      });
      const instance = await tx.instance.findUniqueOrThrow({
        where: { id: row.id },
        include: { brokers: true },
      });
      return { instance, operation };
    });
  }

  for (const type of ['internal', 'public'] as const satisfies readonly RouteType[]) {
    app.put(
      `/v1/instances/:instanceId/routes/${type}`,
      {
        schema: {
          tags: ['instances'],
          summary: `Add or replace the ${type} route (its protocol, allowlist${type === 'public' ? ', client CA' : ''})`,
          params: Params,
          headers: IfMatch,
          body: RouteBodies[type],
          response: { 200: Instance, 202: Accepted, ...problems(409, 412, 422) },
        },
      },
      async (req, reply) => {
        const p = requirePrincipal(req);
        const row = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:ModifyInstanceRoutes');
        checkIfMatch(req.headers['if-match'], row.version);
        const route = { type, ...req.body } as AccessRoute;
        const before = routesOf(row);
        const after = [...before.filter((r) => r.type !== type), route].sort((a, b) =>
          a.type.localeCompare(b.type),
        );
        if (
          isDeepStrictEqual(
            before.find((r) => r.type === type),
            route,
          )
        ) {
          reply.header('etag', etagOf(row.version));
          return reply.code(200).send(instanceView(row, await caBundle()));
        }
        const { instance, operation } = await change(p, row, after, {
          action: 'ModifyInstanceRoutes',
          details: {
            route: type,
            securityProtocol: route.securityProtocol,
            allowedCidrs: route.allowedCidrs,
          },
        });
        reply
          .code(202)
          .header('location', `/v1/operations/${operation.id}`)
          .header('etag', etagOf(instance.version));
        return { instance: instanceView(instance, await caBundle()), operation: operationView(operation) };
      },
    );

    app.delete(
      `/v1/instances/:instanceId/routes/${type}`,
      {
        schema: {
          tags: ['instances'],
          summary: `Remove the ${type} route (its listener closes, one broker at a time)`,
          params: Params,
          headers: IfMatch,
          response: { 202: Accepted, ...problems(409, 412, 422) },
        },
      },
      async (req, reply) => {
        const p = requirePrincipal(req);
        const row = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:ModifyInstanceRoutes');
        checkIfMatch(req.headers['if-match'], row.version);
        const before = routesOf(row);
        if (!before.some((r) => r.type === type))
          throw new ApiProblem('not_found', `the instance has no ${type} route`);
        const after = before.filter((r) => r.type !== type);
        if (after.length === 0)
          throw new ApiProblem('unprocessable', 'an instance keeps at least one route; add another first');
        const { instance, operation } = await change(p, row, after, {
          action: 'DeleteInstanceRoute',
          details: { route: type },
        });
        reply
          .code(202)
          .header('location', `/v1/operations/${operation.id}`)
          .header('etag', etagOf(instance.version));
        return { instance: instanceView(instance, await caBundle()), operation: operationView(operation) };
      },
    );
  }
};
