import {
  AlarmEvent,
  AlarmEventQuery,
  AlarmPolicy,
  alarmPolicyId,
  CreateAlarmPolicy,
  instanceId,
  type MetricName,
  type MetricScope,
  newId,
  PageQuery,
  PatchAlarmPolicy,
  pageOf,
  SYSTEM_POLICY_MUTABLE,
  scopeIssues,
} from '@fjord/contracts';
import type { Prisma, PrismaClient } from '@fjord/db';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { checkIfMatch, etagOf } from '../http/etag.js';
import { decodeCursor, pageFrom } from '../http/pagination.js';
import { ApiProblem, type FieldIssue, notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { alarmEventView, alarmPolicyView } from '../views/alarmViews.js';
import { problems, type RouteDeps } from './common.js';
import { loadInstance } from './instances.js';

const Params = z.object({ instanceId });
const PolicyParams = Params.extend({ alarmPolicyId });
const IfMatch = z.object({ 'if-match': z.string().max(200).optional() }).loose();

/** Channels must be the account's own, live ones; the issues name the offending entries. */
async function channelIssues(
  prisma: PrismaClient,
  accountId: string,
  ids: readonly string[],
): Promise<FieldIssue[]> {
  if (ids.length === 0) return [];
  const found = await prisma.notificationChannel.findMany({
    where: { id: { in: [...ids] }, accountId, deletedAt: null },
    select: { id: true },
  });
  const known = new Set(found.map((c) => c.id));
  return ids.flatMap((id, i) =>
    known.has(id)
      ? []
      : [{ path: `/channelIds/${i}`, message: 'no such notification channel', code: 'not_found' }],
  );
}

function refuse(issues: FieldIssue[]): void {
  if (issues.length)
    throw new ApiProblem('validation_failed', 'the alarm policy is not valid', { errors: issues });
}

/** Alarm policies of an instance (they become Prometheus alerting rules) and the events they raised. */
export type AlarmRoutesOptions = Pick<RouteDeps, 'prisma' | 'pool' | 'access'>;

export const alarmRoutes: FastifyPluginAsyncZod<AlarmRoutesOptions> = async (app, deps) => {
  const { prisma, access } = deps;

  app.post(
    '/v1/instances/:instanceId/alarm-policies',
    {
      schema: {
        tags: ['alarms'],
        summary:
          'Create an alarm policy (evaluated within a few seconds; notifies its channels on each state change)',
        params: Params,
        body: CreateAlarmPolicy,
        response: { 201: AlarmPolicy, ...problems(409) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'monitor:CreateAlarm');
      const b = req.body;
      refuse([
        ...scopeIssues(b.metric, b.scope, '/scope'),
        ...(await channelIssues(prisma, ins.accountId, b.channelIds)),
      ]);
      const row = await prisma.$transaction(async (tx) => {
        const created = await tx.alarmPolicy.create({
          data: {
            id: newId('alarmPolicy'),
            accountId: ins.accountId,
            instanceId: ins.id,
            name: b.name,
            metric: b.metric,
            scope: b.scope,
            comparison: b.comparison,
            threshold: b.threshold,
            durationSeconds: b.durationSeconds,
            severity: b.severity,
            channelIds: b.channelIds,
            enabled: b.enabled,
            muted: b.muted,
          },
        });
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'CreateAlarmPolicy',
          resource: `instance/${ins.id}/alarm/${created.id}`,
          details: { ...b, scope: b.scope as Prisma.InputJsonObject },
        });
        return created;
      });
      reply.code(201).header('etag', etagOf(row.version));
      return alarmPolicyView(row);
    },
  );

  app.get(
    '/v1/instances/:instanceId/alarm-policies',
    {
      schema: {
        tags: ['alarms'],
        summary: 'List alarm policies',
        params: Params,
        querystring: PageQuery,
        response: { 200: pageOf(AlarmPolicy), ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'monitor:ListAlarms');
      const after = decodeCursor(req.query.cursor);
      const rows = await prisma.alarmPolicy.findMany({
        where: { instanceId: ins.id, ...(after ? { id: { gt: after } } : {}) },
        orderBy: { id: 'asc' },
        take: req.query.limit + 1,
      });
      const page = pageFrom(rows, req.query.limit, (r) => r.id);
      return { items: page.items.map(alarmPolicyView), nextCursor: page.nextCursor };
    },
  );

  const loadPolicy = async (instance: string, id: string) => {
    const row = await prisma.alarmPolicy.findUnique({ where: { id } });
    if (!row || row.instanceId !== instance) throw notFound('alarm policy');
    return row;
  };

  app.get(
    '/v1/instances/:instanceId/alarm-policies/:alarmPolicyId',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Get an alarm policy (ETag for If-Match)',
        params: PolicyParams,
        response: { 200: AlarmPolicy, ...problems() },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'monitor:ListAlarms');
      const row = await loadPolicy(ins.id, req.params.alarmPolicyId);
      reply.header('etag', etagOf(row.version));
      return alarmPolicyView(row);
    },
  );

  app.patch(
    '/v1/instances/:instanceId/alarm-policies/:alarmPolicyId',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Change an alarm policy (enable, mute, threshold, …); an unchanged body changes nothing',
        params: PolicyParams,
        headers: IfMatch,
        body: PatchAlarmPolicy,
        response: { 200: AlarmPolicy, ...problems(409, 412) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'monitor:ModifyAlarm');
      const row = await loadPolicy(ins.id, req.params.alarmPolicyId);
      checkIfMatch(req.headers['if-match'], row.version);
      const b = req.body;
      const scope = (b.scope ?? row.scope) as MetricScope;
      const mutable: readonly string[] = SYSTEM_POLICY_MUTABLE;
      refuse([
        ...(row.system
          ? Object.keys(b)
              .filter((k) => !mutable.includes(k))
              .map((k) => ({
                path: `/${k}`,
                message: `a system alarm policy keeps its ${k}; only ${mutable.join(', ')} may change`,
                code: 'read_only',
              }))
          : []),
        ...(b.scope ? scopeIssues(row.metric as MetricName, scope, '/scope') : []),
        ...(await channelIssues(prisma, ins.accountId, b.channelIds ?? [])),
      ]);
      const current = alarmPolicyView(row);
      const changed = (Object.keys(b) as (keyof typeof b)[]).filter(
        (k) => JSON.stringify(b[k]) !== JSON.stringify(current[k]),
      );
      // Re-sending the desired state is a no-op: same version, same ETag, no audit noise.
      if (changed.length === 0) {
        reply.header('etag', etagOf(row.version));
        return current;
      }
      const updated = await prisma.$transaction(async (tx) => {
        const r = await tx.alarmPolicy.updateMany({
          where: { id: row.id, version: row.version },
          data: {
            ...b,
            ...(b.scope ? { scope: b.scope } : {}),
            version: { increment: 1 },
          },
        });
        if (r.count === 0)
          throw new ApiProblem('precondition_failed', 'the alarm policy changed meanwhile; fetch it again');
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'ModifyAlarmPolicy',
          resource: `instance/${ins.id}/alarm/${row.id}`,
          details: { changed, ...(b as Prisma.InputJsonObject) },
        });
        return tx.alarmPolicy.findUniqueOrThrow({ where: { id: row.id } });
      });
      reply.header('etag', etagOf(updated.version));
      return alarmPolicyView(updated);
    },
  );

  app.delete(
    '/v1/instances/:instanceId/alarm-policies/:alarmPolicyId',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Delete an alarm policy and its events (system policies cannot be: disable or mute them)',
        params: PolicyParams,
        response: { 204: z.null(), ...problems(409) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'monitor:DeleteAlarm');
      const row = await loadPolicy(ins.id, req.params.alarmPolicyId);
      if (row.system)
        throw new ApiProblem('conflict', `${row.name} is a system alarm policy: disable or mute it instead`);
      await prisma.$transaction(async (tx) => {
        await tx.alarmPolicy.delete({ where: { id: row.id } });
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'DeleteAlarmPolicy',
          resource: `instance/${ins.id}/alarm/${row.id}`,
        });
      });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/instances/:instanceId/alarm-events',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Alarm events (firing and resolved), newest first, with their notification deliveries',
        params: Params,
        querystring: PageQuery.extend(AlarmEventQuery.shape).strict(),
        response: { 200: pageOf(AlarmEvent), ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'monitor:ListAlarms');
      const q = req.query;
      const before = decodeCursor(q.cursor);
      const rows = await prisma.alarmEvent.findMany({
        where: {
          instanceId: ins.id,
          ...(q.status ? { status: q.status } : {}),
          ...(q.policyId ? { policyId: q.policyId } : {}),
          ...(q.from || q.to
            ? {
                startsAt: {
                  ...(q.from ? { gte: new Date(q.from) } : {}),
                  ...(q.to ? { lt: new Date(q.to) } : {}),
                },
              }
            : {}),
          ...(before ? { id: { lt: before } } : {}),
        },
        include: { notifications: { orderBy: { createdAt: 'asc' } } },
        orderBy: { id: 'desc' },
        take: q.limit + 1,
      });
      const page = pageFrom(rows, q.limit, (r) => r.id);
      return { items: page.items.map(alarmEventView), nextCursor: page.nextCursor };
    },
  );
};
