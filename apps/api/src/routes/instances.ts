import {
  CreateInstance,
  Instance,
  InstanceListQuery,
  idSchema,
  instanceId,
  newId,
  OPERATION_CANCELLED,
  Operation,
  PageQuery,
  PatchInstance,
  pageOf,
  planPlacement,
  ResizeInstance,
} from '@fjord/contracts';
import {
  admitResize,
  inTransactionWithOperation,
  reservePlacement,
  resizeChanges,
  zoneRoom,
} from '@fjord/provisioning';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { Access } from '../access/access.js';
import { actorOf, type Principal } from '../auth/principal.js';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { checkIfMatch, etagOf } from '../http/etag.js';
import { decodeCursor, pageFrom } from '../http/pagination.js';
import { ApiProblem, notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { caBundleCache } from '../services/caBundle.js';
import { instanceById } from '../services/instanceReads.js';
import { createOperation } from '../services/operations.js';
import { createSystemAlarmPolicies } from '../services/systemAlarms.js';
import { listTopics, partitionsInUse } from '../services/topicListing.js';
import { type InstanceWithBrokers, instanceView } from '../views/instanceView.js';
import { operationView } from '../views/operationView.js';
import { problems, type RouteDeps } from './common.js';

const Params = z.object({ instanceId });
const Accepted = z.object({ instance: Instance, operation: Operation });
const IfMatch = z.object({ 'if-match': z.string().max(200).optional() }).loose();

/** The instance if it exists, is not deleted and the caller may act on it; 404 otherwise. */
export async function loadInstance(
  deps: { readonly pool: Pool },
  access: Access,
  p: Principal,
  id: string,
  action: Parameters<Access['require']>[1],
): Promise<InstanceWithBrokers> {
  const row = await instanceById(deps.pool, id);
  if (!row || row.deletedAt) throw notFound('instance');
  await access.require(p, action, row.accountId, `instance/${row.id}`);
  return row;
}

export type InstanceRoutesOptions = Pick<RouteDeps, 'prisma' | 'pool' | 'access' | 'queue' | 'cluster'>;

export const instanceRoutes: FastifyPluginAsyncZod<InstanceRoutesOptions> = async (app, deps) => {
  const { prisma, access, queue } = deps;
  const caBundle = caBundleCache(prisma);
  const view = async (row: InstanceWithBrokers) => instanceView(row, await caBundle());

  app.post(
    '/v1/instances',
    {
      schema: {
        tags: ['instances'],
        summary: 'Create an instance (202: poll the operation until it succeeds)',
        body: CreateInstance,
        response: { 202: Accepted, ...problems(409, 422) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      if (p.kind === 'operator')
        throw new ApiProblem('forbidden', 'instances belong to accounts; use an account key');
      const accountId = p.accountId;
      const body = req.body;
      await access.require(p, 'kafka:CreateInstance', accountId, 'instance/*');
      if (body.brokerCount < body.zones.length)
        throw new ApiProblem('validation_failed', 'every zone needs a broker', {
          errors: [
            {
              path: '/brokerCount',
              message: `at least ${body.zones.length} for ${body.zones.length} zones`,
              code: 'too_small',
            },
          ],
        });
      const room = await zoneRoom(prisma, body.zones);
      const unknown = room.filter((z) => !z.known);
      if (unknown.length > 0)
        throw new ApiProblem('unprocessable', `unknown zone(s) ${unknown.map((z) => z.name).join(', ')}`, {
          errors: unknown.map((z) => ({
            path: `/zones/${body.zones.indexOf(z.name)}`,
            message: 'no such zone',
            code: 'unknown_zone',
          })),
        });
      const precheck = planPlacement([], body.brokerCount, room);
      if (!precheck.ok) throw new ApiProblem('placement_unsatisfiable', precheck.reason);
      if (await prisma.instance.findFirst({ where: { accountId, name: body.name, deletedAt: null } }))
        throw new ApiProblem('name_taken', `an instance named ${body.name} exists in this account`);

      const id = newId('instance');
      const { instance, operation } = await inTransactionWithOperation(prisma, queue, async (tx) => {
        await tx.instance.create({
          data: {
            id,
            accountId,
            name: body.name,
            zones: body.zones,
            brokerCount: body.brokerCount,
            bandwidthMBps: body.spec.bandwidthMBps,
            diskGiB: body.spec.diskGiB,
            partitionLimit: body.spec.partitionLimit,
            defaultReplicationFactor: body.defaultReplicationFactor,
            kafkaVersion: body.kafkaVersion,
            accessRoutes: body.accessRoutes,
            deletionProtection: body.deletionProtection,
            clusterId: id,
            statusReason: 'placing brokers',
          },
        });
        await reservePlacement(tx, id, [], body.brokerCount, body.zones);
        await createSystemAlarmPolicies(tx, accountId, id);
        const operation = await createOperation(tx, p, {
          accountId,
          instanceId: id,
          kind: 'instance.create',
          target: `instance/${id}`,
          input: {},
        });
        await recordAudit(tx, p, {
          accountId,
          action: 'CreateInstance',
          resource: `instance/${id}`,
          details: { name: body.name, operationId: operation.id },
        });
        const instance = await tx.instance.findUniqueOrThrow({ where: { id }, include: { brokers: true } });
        return { instance, operation };
      }).catch((e: unknown) => {
        // Two concurrent creates with one name: the partial unique index decides.
        if ((e as { code?: string }).code === 'P2002')
          throw new ApiProblem('name_taken', `an instance named ${body.name} exists in this account`);
        throw e;
      });
      reply.code(202).header('location', `/v1/instances/${id}`).header('etag', etagOf(instance.version));
      return { instance: await view(instance), operation: operationView(operation) };
    },
  );

  app.get(
    '/v1/instances',
    {
      schema: {
        tags: ['instances'],
        summary: 'List instances',
        querystring: PageQuery.extend(InstanceListQuery.shape).extend({
          accountId: idSchema('account')
            .optional()
            .describe('another account, through a grant (operators: any)'),
        }),
        response: { 200: pageOf(Instance), ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const q = req.query;
      const accountId = await access.listScope(p, 'kafka:ListInstances', 'instance/*', q.accountId);
      const after = decodeCursor(q.cursor);
      const rows = await prisma.instance.findMany({
        where: {
          deletedAt: null,
          ...(accountId ? { accountId } : {}),
          ...(q.status ? { status: q.status.toUpperCase() as 'RUNNING' } : {}),
          ...(q.name ? { name: q.name } : {}),
          ...(q.zone ? { zones: { has: q.zone } } : {}),
          ...(after ? { id: { gt: after } } : {}),
        },
        include: { brokers: true },
        orderBy: { id: 'asc' },
        take: q.limit + 1,
      });
      const page = pageFrom(rows, q.limit, (r) => r.id);
      const bundle = await caBundle();
      return { items: page.items.map((r) => instanceView(r, bundle)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/instances/:instanceId',
    {
      schema: {
        tags: ['instances'],
        summary: 'Get an instance (ETag for If-Match)',
        params: Params,
        response: { 200: Instance, ...problems() },
      },
    },
    async (req, reply) => {
      const row = await loadInstance(
        deps,
        access,
        requirePrincipal(req),
        req.params.instanceId,
        'kafka:DescribeInstance',
      );
      reply.header('etag', etagOf(row.version));
      return view(row);
    },
  );

  app.patch(
    '/v1/instances/:instanceId',
    {
      schema: {
        tags: ['instances'],
        summary: 'Rename or toggle deletion protection (instant)',
        params: Params,
        headers: IfMatch,
        body: PatchInstance,
        response: { 200: Instance, ...problems(409, 412) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const row = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:ModifyInstance');
      checkIfMatch(req.headers['if-match'], row.version);
      // Only what differs is a change: re-sending the current state keeps version and ETag.
      const name = req.body.name !== row.name ? req.body.name : undefined;
      const deletionProtection =
        req.body.deletionProtection !== row.deletionProtection ? req.body.deletionProtection : undefined;
      if (name === undefined && deletionProtection === undefined) {
        reply.header('etag', etagOf(row.version));
        return view(row);
      }
      if (
        name &&
        (await prisma.instance.findFirst({ where: { accountId: row.accountId, name, deletedAt: null } }))
      )
        throw new ApiProblem('name_taken', `an instance named ${name} exists in this account`);
      const updated = await prisma.$transaction(async (tx) => {
        // With If-Match, the version in the filter makes a concurrent change lose with 412 rather
        // than be overwritten; without it the last write wins.
        const r = await tx.instance.updateMany({
          where: { id: row.id, ...(req.headers['if-match'] ? { version: row.version } : {}) },
          data: {
            ...(name ? { name } : {}),
            ...(deletionProtection !== undefined ? { deletionProtection } : {}),
            version: { increment: 1 },
          },
        });
        if (r.count === 0)
          throw new ApiProblem('precondition_failed', 'the instance changed meanwhile; fetch it again');
        await recordAudit(tx, p, {
          accountId: row.accountId,
          action: 'ModifyInstance',
          resource: `instance/${row.id}`,
          details: {
            ...(name ? { name } : {}),
            ...(deletionProtection !== undefined ? { deletionProtection } : {}),
          },
        });
        return tx.instance.findUniqueOrThrow({ where: { id: row.id }, include: { brokers: true } });
      });
      reply.header('etag', etagOf(updated.version));
      return view(updated);
    },
  );

  app.post(
    '/v1/instances/:instanceId/resize',
    {
      schema: {
        tags: ['instances'],
        summary:
          'Change broker count (up or down) and/or spec; refused up front when placement, replication or quotas cannot take it',
        params: Params,
        headers: IfMatch,
        body: ResizeInstance,
        response: { 200: Instance, 202: Accepted, ...problems(409, 412, 422, 502) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const row = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:ModifyInstance');
      checkIfMatch(req.headers['if-match'], row.version);
      // A resize to the size the instance has is no change: 200, no operation (as Terraform re-applies).
      if (!resizeChanges(row, req.body)) {
        reply.header('etag', etagOf(row.version));
        return reply.code(200).send(await view(row));
      }
      const partitionLimit = req.body.spec?.partitionLimit;
      if (partitionLimit !== undefined && partitionLimit < row.partitionLimit) {
        const used = partitionsInUse(await listTopics(deps, row));
        if (partitionLimit < used)
          throw new ApiProblem(
            'unprocessable',
            `the instance holds ${used} partitions; a limit of ${partitionLimit} is below them`,
            {
              errors: [
                { path: '/spec/partitionLimit', message: `must be at least ${used}`, code: 'too_small' },
              ],
            },
          );
      }
      const { instance, operation } = await admitResize(
        { prisma, queue, footprint: deps.cluster },
        row,
        req.body,
        actorOf(p),
      );
      reply
        .code(202)
        .header('location', `/v1/operations/${operation.id}`)
        .header('etag', etagOf(instance.version));
      return { instance: await view(instance), operation: operationView(operation) };
    },
  );

  app.post(
    '/v1/instances/:instanceId/restart',
    {
      schema: {
        tags: ['instances'],
        summary: 'Rolling restart, one broker at a time, waiting for in-sync replicas between brokers',
        params: Params,
        response: { 202: Accepted, ...problems(409, 422, 502) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const row = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:RestartInstance');
      // Refused up front when a broker's restart would take a replicated partition below its
      // min.insync.replicas even with every replica in sync (replication factor = min ISR).
      if (row.status === 'RUNNING') {
        const brokerDefault = Math.max(1, Math.min(row.defaultReplicationFactor, row.brokerCount) - 1);
        const strict = (await deps.cluster.listTopics(row.id, row.brokers)).filter(
          (t) =>
            t.replicationFactor > 1 &&
            t.replicationFactor <= Number(t.configs['min.insync.replicas'] ?? brokerDefault),
        );
        if (strict.length > 0)
          throw new ApiProblem(
            'unprocessable',
            `a rolling restart would take topic ${strict[0]!.name} below min.insync.replicas (replication factor ${strict[0]!.replicationFactor}); lower its min.insync.replicas or add replicas first`,
          );
      }
      const { instance, operation } = await inTransactionWithOperation(prisma, queue, async (tx) => {
        const operation = await createOperation(tx, p, {
          accountId: row.accountId,
          instanceId: row.id,
          kind: 'instance.restart',
          target: `instance/${row.id}`,
          input: {},
        });
        const current = await tx.instance.findUniqueOrThrow({ where: { id: row.id } });
        if (current.status !== 'RUNNING')
          throw new ApiProblem(
            'instance_not_ready',
            `instance is ${current.status.toLowerCase()}, not running`,
          );
        await tx.instance.update({
          where: { id: row.id },
          data: { status: 'RESTARTING', statusReason: 'rolling restart', version: { increment: 1 } },
        });
        await recordAudit(tx, p, {
          accountId: row.accountId,
          action: 'RestartInstance',
          resource: `instance/${row.id}`,
          details: { operationId: operation.id },
        });
        return {
          operation,
          instance: await tx.instance.findUniqueOrThrow({
            where: { id: row.id },
            include: { brokers: true },
          }),
        };
      });
      reply.code(202).header('location', `/v1/operations/${operation.id}`);
      return { instance: await view(instance), operation: operationView(operation) };
    },
  );

  app.delete(
    '/v1/instances/:instanceId',
    {
      schema: {
        tags: ['instances'],
        summary:
          'Delete an instance: brokers stopped, data removed; 404 once done. While the instance is being created, this cancels the create (its operation fails with code `cancelled`)',
        params: Params,
        headers: IfMatch,
        response: { 202: Accepted, ...problems(409, 412) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const row = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DeleteInstance');
      checkIfMatch(req.headers['if-match'], row.version);
      if (row.deletionProtection)
        throw new ApiProblem(
          'deletion_protected',
          'deletion protection is on; PATCH deletionProtection=false first',
        );
      const { instance, operation } = await inTransactionWithOperation(prisma, queue, async (tx) => {
        // Deleting an instance still being created cancels the create (what a user who changed
        // their mind expects, and what Terraform's destroy after an interrupted apply needs): the
        // create ends failed with code `cancelled` now, its worker stops before its next step, and
        // the delete, once that worker has stopped, removes what it had started.
        await tx.$queryRaw`SELECT id FROM "Instance" WHERE id = ${row.id} FOR UPDATE`;
        const create = await tx.operation.findFirst({
          where: { instanceId: row.id, kind: 'instance.create', status: { in: ['PENDING', 'RUNNING'] } },
        });
        if (create)
          await tx.operation.update({
            where: { id: create.id },
            data: {
              status: 'FAILED',
              error: {
                code: OPERATION_CANCELLED,
                message: 'cancelled: the instance was deleted while being created',
              },
            },
          });
        const operation = await createOperation(tx, p, {
          accountId: row.accountId,
          instanceId: row.id,
          kind: 'instance.delete',
          target: `instance/${row.id}`,
          input: create ? { cancels: create.id } : {},
        });
        await tx.instance.update({
          where: { id: row.id },
          data: { status: 'DELETING', statusReason: 'stopping brokers', version: { increment: 1 } },
        });
        await recordAudit(tx, p, {
          accountId: row.accountId,
          action: 'DeleteInstance',
          resource: `instance/${row.id}`,
          details: { operationId: operation.id },
        });
        return {
          operation,
          instance: await tx.instance.findUniqueOrThrow({
            where: { id: row.id },
            include: { brokers: true },
          }),
        };
      });
      reply.code(202).header('location', `/v1/operations/${operation.id}`);
      return { instance: await view(instance), operation: operationView(operation) };
    },
  );
};
