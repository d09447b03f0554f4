import { createHash, timingSafeEqual } from 'node:crypto';
import {
  CONNECTOR_DEALING_FIELDS,
  CONNECTOR_SCHEMAS,
  Connector,
  ConnectorOffsets,
  type ConnectorType,
  CreateConnector,
  idSchema,
  instanceId,
  missingConnectorSecrets,
  newId,
  PatchConnector,
  PutConnectorOffsets,
  pageOf,
  SecretCheck,
  VerifyConnectorSecrets,
} from '@fjord/contracts';
import type { Prisma } from '@fjord/db';
import { seal, unseal } from '@fjord/fleet';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { checkIfMatch, etagOf } from '../http/etag.js';
import type { SecretCheckLimit } from '../http/secretCheckLimit.js';
import { ApiProblem, type FieldIssue, notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { refusedConnectorTargets } from '../services/connectorTargets.js';
import { connectorOffsetsView, connectorView, effectiveConnectorConfig } from '../views/connectorViews.js';
import { problems, type RouteDeps } from './common.js';
import { loadInstance } from './instances.js';

const InstanceParams = z.object({ instanceId });
const Params = z.object({ instanceId, connectorId: idSchema('connector') });
const IfMatch = z.object({ 'if-match': z.string().max(200).optional() }).loose();

/** Zod issues of a part of the body checked after routing (it depends on the stored type), as the API names fields. */
function fieldIssues(prefix: string, error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((i) => {
    const at = `${prefix}${i.path.map((p) => `/${String(p)}`).join('')}`;
    return i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ path: `${at}/${k}`, message: `unknown field '${k}'`, code: 'unknown_field' }))
      : [{ path: at, message: i.message, code: i.code }];
  });
}

/** Constant-time comparison of two secret values (digests first, so lengths do not leak either). */
function sameSecret(a: unknown, b: unknown): boolean {
  const digest = (v: unknown) =>
    createHash('sha256')
      .update(typeof v === 'string' ? `s${v}` : 'none')
      .digest();
  return timingSafeEqual(digest(a), digest(b));
}

const canonicalJson = (v: unknown): string =>
  JSON.stringify(v, (_, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );

export type ConnectorRoutesOptions = Pick<
  RouteDeps,
  'prisma' | 'pool' | 'access' | 'adminSecret' | 'connectorAllowedNetworks'
> & {
  readonly secretChecks: SecretCheckLimit;
};

type Action = 'kafka:DescribeConnector' | 'kafka:ModifyConnector' | 'kafka:DeleteConnector';

/**
 * Connectors of an instance (docs/adr/0022-connector-runtime.md). Changes are rows only: connect
 * workers notice them on their next lease round, so every change is instant (no operation).
 */
export const connectorRoutes: FastifyPluginAsyncZod<ConnectorRoutesOptions> = async (app, deps) => {
  const { prisma, access, connectorAllowedNetworks = [] } = deps;
  const withTasks = { tasks: true } as const;

  /** Refuses a config whose hosts connectors may not reach (before anything is written). */
  const checkTargets = async (type: ConnectorType, config: Readonly<Record<string, unknown>>) => {
    const errors = await refusedConnectorTargets(type, config, connectorAllowedNetworks);
    if (errors.length > 0)
      throw new ApiProblem('validation_failed', 'connectors connect to public addresses only', { errors });
  };

  const load = async (p: Principal, insId: string, connectorId: string, action: Action) => {
    const ins = await loadInstance(deps, access, p, insId, action);
    const row = await prisma.connector.findFirst({
      where: { id: connectorId, instanceId: ins.id },
      include: withTasks,
    });
    if (!row) throw notFound('connector');
    return { ins, row };
  };

  /** Applies `data` under If-Match and the row's version, audits it, answers the new resource. */
  const change = async (
    p: Principal,
    params: z.infer<typeof Params>,
    ifMatch: string | undefined,
    action: string,
    data: (row: { desiredState: string }) => Prisma.ConnectorUpdateManyMutationInput | null,
    taskData: (row: { desiredState: string }) => Prisma.ConnectorTaskUpdateManyMutationInput | null = () =>
      null,
  ) => {
    const { ins, row } = await load(p, params.instanceId, params.connectorId, 'kafka:ModifyConnector');
    checkIfMatch(ifMatch, row.version);
    const update = data(row);
    // Asking for the state it has: 200, nothing changes (ADR 0017).
    if (!update) return row;
    return prisma.$transaction(async (tx) => {
      const r = await tx.connector.updateMany({
        where: { id: row.id, version: row.version },
        data: { ...update, version: { increment: 1 } },
      });
      if (r.count === 0)
        throw new ApiProblem('precondition_failed', 'the connector changed meanwhile; fetch it again');
      const tasks = taskData(row);
      if (tasks) await tx.connectorTask.updateMany({ where: { connectorId: row.id }, data: tasks });
      await recordAudit(tx, p, {
        accountId: ins.accountId,
        action,
        resource: `instance/${ins.id}/connector/${row.name}`,
      });
      return tx.connector.findUniqueOrThrow({ where: { id: row.id }, include: withTasks });
    });
  };

  app.post(
    '/v1/instances/:instanceId/connectors',
    {
      schema: {
        tags: ['connectors'],
        summary: 'Create a connector; its tasks start on connect workers (secrets are write-only)',
        params: InstanceParams,
        body: CreateConnector,
        response: { 201: Connector, ...problems(409) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:CreateConnector');
      const body = req.body;
      const taken = () =>
        new ApiProblem('name_taken', `a connector named ${body.name} exists on this instance`, {
          errors: [{ path: '/name', message: 'taken', code: 'name_taken' }],
        });
      if (await prisma.connector.findFirst({ where: { instanceId: ins.id, name: body.name } })) throw taken();
      await checkTargets(body.type, body.config);
      const id = newId('connector');
      const row = await prisma
        .$transaction(async (tx) => {
          const created = await tx.connector.create({
            data: {
              id,
              instanceId: ins.id,
              accountId: ins.accountId,
              name: body.name,
              type: body.type,
              tasksMax: body.tasksMax,
              config: body.config,
              sealedSecrets: seal(JSON.stringify(body.secrets), deps.adminSecret),
              secretNames: Object.keys(body.secrets).sort(),
              tasks: { create: Array.from({ length: body.tasksMax }, (_, task) => ({ task })) },
            },
            include: withTasks,
          });
          await recordAudit(tx, p, {
            accountId: ins.accountId,
            action: 'CreateConnector',
            resource: `instance/${ins.id}/connector/${body.name}`,
            // Never the secrets: only which were given.
            details: { type: body.type, tasksMax: body.tasksMax, config: body.config },
          });
          return created;
        })
        .catch((e: unknown) => {
          if ((e as { code?: string }).code === 'P2002') throw taken();
          throw e;
        });
      reply.code(201).header('etag', etagOf(row.version));
      return connectorView(row);
    },
  );

  app.get(
    '/v1/instances/:instanceId/connectors',
    {
      schema: {
        tags: ['connectors'],
        summary: "List the instance's connectors with their tasks' states",
        params: InstanceParams,
        response: { 200: pageOf(Connector), ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:ListConnectors');
      const rows = await prisma.connector.findMany({
        where: { instanceId: ins.id },
        include: withTasks,
        orderBy: { id: 'asc' },
      });
      return { items: rows.map(connectorView), nextCursor: null };
    },
  );

  app.get(
    '/v1/instances/:instanceId/connectors/:connectorId',
    {
      schema: {
        tags: ['connectors'],
        summary:
          'Get a connector: config (no secrets), state and per-task state with the reason of a failure',
        params: Params,
        response: { 200: Connector, ...problems() },
      },
    },
    async (req, reply) => {
      const { row } = await load(
        requirePrincipal(req),
        req.params.instanceId,
        req.params.connectorId,
        'kafka:DescribeConnector',
      );
      reply.header('etag', etagOf(row.version));
      return connectorView(row);
    },
  );

  const transition = (
    path: 'pause' | 'resume' | 'restart',
    summary: string,
    action: string,
    data: (row: { desiredState: string }) => Prisma.ConnectorUpdateManyMutationInput | null,
    taskData?: (row: { desiredState: string }) => Prisma.ConnectorTaskUpdateManyMutationInput | null,
  ) =>
    app.post(
      `/v1/instances/:instanceId/connectors/:connectorId/${path}`,
      {
        schema: {
          tags: ['connectors'],
          summary,
          params: Params,
          headers: IfMatch,
          response: { 200: Connector, ...problems(412) },
        },
      },
      async (req, reply) => {
        const row = await change(
          requirePrincipal(req),
          req.params,
          req.headers['if-match'],
          action,
          data,
          taskData,
        );
        reply.header('etag', etagOf(row.version));
        return connectorView(row);
      },
    );

  transition(
    'pause',
    'Pause: tasks stop after their current step and keep their progress',
    'PauseConnector',
    (r) => (r.desiredState === 'PAUSED' ? null : { desiredState: 'PAUSED' }),
  );
  transition('resume', 'Resume a paused connector where it stopped', 'ResumeConnector', (r) =>
    r.desiredState === 'RUNNING' ? null : { desiredState: 'RUNNING' },
  );
  transition(
    'restart',
    'Restart every task from its committed progress (clears failures)',
    'RestartConnector',
    () => ({ generation: { increment: 1 } }),
    () => ({ reason: null }),
  );

  app.patch(
    '/v1/instances/:instanceId/connectors/:connectorId',
    {
      schema: {
        tags: ['connectors'],
        summary:
          'Change tasksMax, config or secrets; tasks restart with them (changing tasksMax or the topics chosen needs the connector paused)',
        params: Params,
        headers: IfMatch,
        body: PatchConnector,
        response: { 200: Connector, ...problems(409, 412) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const { ins, row } = await load(
        p,
        req.params.instanceId,
        req.params.connectorId,
        'kafka:ModifyConnector',
      );
      checkIfMatch(req.headers['if-match'], row.version);
      const type = row.type as ConnectorType;
      const schemas = CONNECTOR_SCHEMAS[type];
      const issues: FieldIssue[] = [];
      const config = req.body.config === undefined ? undefined : schemas.config.safeParse(req.body.config);
      if (config && !config.success) issues.push(...fieldIssues('/config', config.error));
      const secrets =
        req.body.secrets === undefined ? undefined : schemas.secrets.safeParse(req.body.secrets);
      if (secrets && !secrets.success) issues.push(...fieldIssues('/secrets', secrets.error));
      if (issues.length > 0)
        throw new ApiProblem('validation_failed', 'the body does not fit the connector type', {
          errors: issues,
        });
      const newConfig: Record<string, unknown> = config?.data ?? effectiveConnectorConfig(type, row.config);
      const current = JSON.parse(unseal(row.sealedSecrets, deps.adminSecret)) as Record<string, unknown>;
      const newSecrets = (secrets?.data ?? current) as Record<string, unknown>;
      const secretNames = Object.keys(newSecrets)
        .filter((k) => newSecrets[k] !== undefined)
        .sort();
      const missing = missingConnectorSecrets(type, newConfig, secretNames);
      if (missing.length > 0)
        throw new ApiProblem('validation_failed', 'the config needs secrets that are not set', {
          errors: missing.map((k) => ({
            path: `/secrets/${k}`,
            message: 'required by the config',
            code: 'required',
          })),
        });
      // A new config is judged by today's rules; one kept as it is stays (the worker judges both).
      if (config) await checkTargets(type, newConfig);
      const tasksMax = req.body.tasksMax ?? row.tasksMax;
      const changed = {
        tasksMax: tasksMax !== row.tasksMax,
        config: canonicalJson(newConfig) !== canonicalJson(effectiveConnectorConfig(type, row.config)),
        secrets: canonicalJson(newSecrets) !== canonicalJson(current),
      };
      // What it has already is no change: 200, nothing written (ADR 0017).
      if (!changed.tasksMax && !changed.config && !changed.secrets) {
        reply.header('etag', etagOf(row.version));
        return connectorView(row);
      }
      // Tasks deal partitions by tasksMax and topic order: while tasks of the old and the new deal
      // run side by side, two could hold one partition. Only stopped tasks can change it.
      const redeals =
        changed.tasksMax ||
        CONNECTOR_DEALING_FIELDS.some(
          (f) =>
            canonicalJson(newConfig[f] ?? null) !==
            canonicalJson((row.config as Record<string, unknown>)[f] ?? null),
        );
      if (
        redeals &&
        (row.desiredState !== 'PAUSED' ||
          row.tasks.some((t) => t.state !== 'PAUSED' && t.state !== 'UNASSIGNED'))
      )
        throw new ApiProblem(
          'conflict',
          'changing tasksMax or the topics chosen needs the connector paused: pause it and wait until its tasks show PAUSED',
        );
      const updated = await prisma.$transaction(async (tx) => {
        const r = await tx.connector.updateMany({
          where: { id: row.id, version: row.version },
          data: {
            tasksMax,
            config: newConfig as Prisma.InputJsonValue,
            ...(changed.secrets
              ? { sealedSecrets: seal(JSON.stringify(newSecrets), deps.adminSecret), secretNames }
              : {}),
            // Running tasks start again with the new settings.
            generation: { increment: 1 },
            version: { increment: 1 },
          },
        });
        if (r.count === 0)
          throw new ApiProblem('precondition_failed', 'the connector changed meanwhile; fetch it again');
        if (changed.tasksMax) {
          // A worker holding a removed task loses its lease on its next renewal and stops it.
          await tx.connectorTask.deleteMany({ where: { connectorId: row.id, task: { gte: tasksMax } } });
          await tx.connectorTask.createMany({
            data: Array.from({ length: tasksMax }, (_, task) => ({ connectorId: row.id, task })),
            skipDuplicates: true,
          });
        }
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'ModifyConnector',
          resource: `instance/${ins.id}/connector/${row.name}`,
          // Never the secrets: only that they changed.
          details: {
            changed: Object.entries(changed)
              .filter(([, v]) => v)
              .map(([k]) => k),
            ...(changed.tasksMax ? { tasksMax } : {}),
            ...(changed.config ? { config: newConfig as Prisma.InputJsonObject } : {}),
          },
        });
        return tx.connector.findUniqueOrThrow({ where: { id: row.id }, include: withTasks });
      });
      reply.header('etag', etagOf(updated.version));
      return connectorView(updated);
    },
  );

  app.post(
    '/v1/instances/:instanceId/connectors/:connectorId/verify-secrets',
    {
      schema: {
        tags: ['connectors'],
        summary:
          "Whether these are the connector's secrets, all of them (for drift checks); rate limited per connector and audited",
        description:
          'Needs kafka:ModifyConnector (the right to set them). At most 20 checks of one connector a minute, over every caller.',
        params: Params,
        body: VerifyConnectorSecrets,
        response: { 200: SecretCheck, ...problems() },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const { ins, row } = await load(
        p,
        req.params.instanceId,
        req.params.connectorId,
        'kafka:ModifyConnector',
      );
      const resource = `instance/${ins.id}/connector/${row.name}`;
      await deps.secretChecks.spend(resource);
      const stored = JSON.parse(unseal(row.sealedSecrets, deps.adminSecret)) as Record<string, unknown>;
      const given = req.body.secrets;
      const names = [...new Set([...Object.keys(stored), ...Object.keys(given)])];
      // Every name compared (constant time per value), so the answer's timing tells nothing of which differed.
      let matches = true;
      for (const k of names) matches = sameSecret(stored[k], given[k]) && matches;
      await prisma.$transaction((tx) =>
        recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'VerifyConnectorSecrets',
          resource,
          details: { matches },
        }),
      );
      return { matches };
    },
  );

  app.delete(
    '/v1/instances/:instanceId/connectors/:connectorId',
    {
      schema: {
        tags: ['connectors'],
        summary: 'Delete a connector with its progress; its tasks stop on their next lease round',
        params: Params,
        headers: IfMatch,
        response: { 204: z.null(), ...problems(412) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const { ins, row } = await load(
        p,
        req.params.instanceId,
        req.params.connectorId,
        'kafka:DeleteConnector',
      );
      checkIfMatch(req.headers['if-match'], row.version);
      await prisma.$transaction(async (tx) => {
        const r = await tx.connector.deleteMany({ where: { id: row.id, version: row.version } });
        if (r.count === 0)
          throw new ApiProblem('precondition_failed', 'the connector changed meanwhile; fetch it again');
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'DeleteConnector',
          resource: `instance/${ins.id}/connector/${row.name}`,
        });
      });
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/instances/:instanceId/connectors/:connectorId/offsets',
    {
      schema: {
        tags: ['connectors'],
        summary: 'Committed progress per partition: every record before `offset` is in the sink',
        params: Params,
        response: { 200: ConnectorOffsets, ...problems() },
      },
    },
    async (req) => {
      const { row } = await load(
        requirePrincipal(req),
        req.params.instanceId,
        req.params.connectorId,
        'kafka:DescribeConnector',
      );
      const rows = await prisma.connectorOffset.findMany({ where: { connectorId: row.id } });
      return connectorOffsetsView(row.id, rows);
    },
  );

  app.put(
    '/v1/instances/:instanceId/connectors/:connectorId/offsets',
    {
      schema: {
        tags: ['connectors'],
        summary:
          'Set committed offsets (pause first and wait for its tasks to show PAUSED); resume to go on from them',
        params: Params,
        headers: IfMatch,
        body: PutConnectorOffsets,
        response: { 200: ConnectorOffsets, ...problems(409, 412) },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const { ins, row } = await load(
        p,
        req.params.instanceId,
        req.params.connectorId,
        'kafka:ModifyConnector',
      );
      checkIfMatch(req.headers['if-match'], row.version);
      // A running task would commit over the new offsets: only stopped tasks (PAUSED is set by the
      // worker after the task has ended) let them stand.
      if (
        row.desiredState !== 'PAUSED' ||
        row.tasks.some((t) => t.state !== 'PAUSED' && t.state !== 'UNASSIGNED')
      )
        throw new ApiProblem('conflict', 'pause the connector and wait until its tasks show PAUSED');
      const config = row.config as { topics?: string[]; topicsInclude?: string[] };
      const unknown = req.body.partitions.findIndex((x) => config.topics && !config.topics.includes(x.topic));
      if (unknown >= 0)
        throw new ApiProblem('validation_failed', 'not a topic of this connector', {
          errors: [
            {
              path: `/partitions/${unknown}/topic`,
              message: "not in the connector's topics",
              code: 'invalid_value',
            },
          ],
        });
      const rows = await prisma.$transaction(async (tx) => {
        const r = await tx.connector.updateMany({
          where: { id: row.id, version: row.version, desiredState: 'PAUSED' },
          data: { version: { increment: 1 } },
        });
        if (r.count === 0)
          throw new ApiProblem('precondition_failed', 'the connector changed meanwhile; fetch it again');
        for (const x of req.body.partitions)
          await tx.connectorOffset.upsert({
            where: {
              connectorId_topic_partition: { connectorId: row.id, topic: x.topic, partition: x.partition },
            },
            // Marked: a sink or target keeping its own position (exactly-once mirror, PostgreSQL
            // sink) starts here instead, until the task's first commit of the partition.
            create: {
              connectorId: row.id,
              topic: x.topic,
              partition: x.partition,
              offset: BigInt(x.offset),
              resetPending: true,
            },
            update: { offset: BigInt(x.offset), pendingFirst: null, pendingLast: null, resetPending: true },
          });
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'PutConnectorOffsets',
          resource: `instance/${ins.id}/connector/${row.name}`,
          details: req.body,
        });
        return tx.connectorOffset.findMany({ where: { connectorId: row.id } });
      });
      return connectorOffsetsView(row.id, rows);
    },
  );
};
