import {
  CreateSaslUser,
  instanceId,
  Operation,
  PageQuery,
  pageOf,
  SaslUser,
  SaslUserName,
  SecretCheck,
  VerifySaslPassword,
} from '@fjord/contracts';
import { seal } from '@fjord/fleet';
import { inTransactionWithOperation } from '@fjord/provisioning';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { decodeCursor, encodeCursor } from '../http/pagination.js';
import type { SecretCheckLimit } from '../http/secretCheckLimit.js';
import { ApiProblem, notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { createOperation } from '../services/operations.js';
import { operationView } from '../views/operationView.js';
import { problems, type RouteDeps } from './common.js';
import { loadInstance } from './instances.js';

const Params = z.object({ instanceId });
const UserParams = Params.extend({ user: SaslUserName });
const Accepted = z.object({ user: SaslUser, operation: Operation });

/** SASL/SCRAM users of an instance: read from the cluster, changed through AlterUserScramCredentials. */
export type UserRoutesOptions = Pick<
  RouteDeps,
  'prisma' | 'pool' | 'access' | 'queue' | 'cluster' | 'adminSecret'
> & { readonly secretChecks: SecretCheckLimit };

export const userRoutes: FastifyPluginAsyncZod<UserRoutesOptions> = async (app, deps) => {
  const { prisma, access, queue, cluster } = deps;

  const currentUsers = async (ins: Awaited<ReturnType<typeof loadInstance>>) => {
    const [users, active] = await Promise.all([
      cluster.listUsers(ins.id, ins.brokers),
      prisma.operation.findMany({
        where: { instanceId: ins.id, status: { in: ['PENDING', 'RUNNING'] }, kind: { startsWith: 'user.' } },
      }),
    ]);
    const byName = new Map(
      users.map((u) => [u.name, { ...u, status: 'active' as 'active' | 'creating' | 'deleting' }]),
    );
    for (const op of active) {
      const name = op.target.split('/user/')[1]!;
      const input = op.input as { mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512' };
      if (op.kind === 'user.create')
        byName.set(name, {
          name,
          mechanisms: byName.get(name)?.mechanisms ?? [input.mechanism],
          status: 'creating',
        });
      else if (byName.has(name)) byName.set(name, { ...byName.get(name)!, status: 'deleting' });
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  };

  app.post(
    '/v1/instances/:instanceId/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create (or set the password of) a SASL/SCRAM user',
        params: Params,
        body: CreateSaslUser,
        response: { 202: Accepted, ...problems(409, 422, 501, 502) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      const resource = `instance/${ins.id}/user/${req.body.name}`;
      await access.require(p, 'kafka:CreateUser', ins.accountId, resource);
      // Fails early (501) when the brokers cannot manage users over the Kafka protocol.
      await cluster.listUsers(ins.id, ins.brokers);
      const input = {
        name: req.body.name,
        mechanism: req.body.mechanism,
        passwordSealed: seal(req.body.password, deps.adminSecret),
      };
      const { operation } = await inTransactionWithOperation(prisma, queue, async (tx) => {
        const operation = await createOperation(tx, p, {
          accountId: ins.accountId,
          instanceId: ins.id,
          kind: 'user.create',
          target: resource,
          input,
        });
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'CreateUser',
          resource,
          details: { mechanism: req.body.mechanism, operationId: operation.id },
        });
        return { operation };
      });
      reply.code(202);
      return {
        user: { name: req.body.name, mechanisms: [req.body.mechanism], status: 'creating' as const },
        operation: operationView(operation),
      };
    },
  );

  app.get(
    '/v1/instances/:instanceId/users',
    {
      schema: {
        tags: ['users'],
        summary: "List SASL users (read from the instance's cluster)",
        params: Params,
        querystring: PageQuery,
        response: { 200: pageOf(SaslUser), ...problems(409, 501, 502) },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      await access.require(p, 'kafka:ListUsers', ins.accountId, `instance/${ins.id}/user/*`);
      const after = decodeCursor(req.query.cursor);
      const all = (await currentUsers(ins)).filter((u) => !after || u.name > after);
      const items = all.slice(0, req.query.limit);
      return {
        items,
        nextCursor: all.length > items.length ? encodeCursor(items[items.length - 1]!.name) : null,
      };
    },
  );

  app.post(
    '/v1/instances/:instanceId/users/:user/verify-password',
    {
      schema: {
        tags: ['users'],
        summary:
          "Whether a password is the user's (the brokers authenticate it); for drift checks, rate limited per user and audited",
        description:
          'Needs kafka:CreateUser on the user (the right to set its password). At most 20 checks of one user a minute, over every caller.',
        params: UserParams,
        body: VerifySaslPassword,
        response: { 200: SecretCheck, ...problems(409, 502) },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      const resource = `instance/${ins.id}/user/${req.params.user}`;
      await access.require(p, 'kafka:CreateUser', ins.accountId, resource);
      const user = (await currentUsers(ins)).find((u) => u.name === req.params.user && u.status === 'active');
      if (!user) throw notFound('user');
      const mechanism = req.body.mechanism ?? user.mechanisms[0]!;
      // A mechanism the user has not is simply no match (what a client would meet).
      await deps.secretChecks.spend(resource);
      const matches =
        user.mechanisms.includes(mechanism) &&
        (await cluster.passwordMatches(ins.id, ins.brokers, user.name, mechanism, req.body.password));
      await prisma.$transaction((tx) =>
        recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'VerifyUserPassword',
          resource,
          details: { mechanism, matches },
        }),
      );
      return { matches };
    },
  );

  app.delete(
    '/v1/instances/:instanceId/users/:user',
    {
      schema: {
        tags: ['users'],
        summary: 'Delete a SASL user (all its mechanisms)',
        params: UserParams,
        response: { 202: Accepted, ...problems(409, 501, 502) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      const resource = `instance/${ins.id}/user/${req.params.user}`;
      await access.require(p, 'kafka:DeleteUser', ins.accountId, resource);
      const user = (await currentUsers(ins)).find((u) => u.name === req.params.user);
      if (!user) throw notFound('user');
      if (user.status === 'creating')
        throw new ApiProblem('operation_in_progress', 'the user is still being created');
      const { operation } = await inTransactionWithOperation(prisma, queue, async (tx) => {
        const operation = await createOperation(tx, p, {
          accountId: ins.accountId,
          instanceId: ins.id,
          kind: 'user.delete',
          target: resource,
          input: { name: user.name, mechanisms: user.mechanisms },
        });
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'DeleteUser',
          resource,
          details: { operationId: operation.id },
        });
        return { operation };
      });
      reply.code(202);
      return { user: { ...user, status: 'deleting' as const }, operation: operationView(operation) };
    },
  );
};
