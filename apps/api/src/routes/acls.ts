import {
  AclBinding,
  AclBindingRequest,
  AclFilterQuery,
  instanceId,
  NewAclBinding,
  Operation,
  PageQuery,
  pageOf,
} from '@fjord/contracts';
import { inTransactionWithOperation } from '@fjord/provisioning';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import { decodeCursor, encodeCursor } from '../http/pagination.js';
import { notFound } from '../problem.js';
import { recordAudit } from '../services/audit.js';
import { createOperation } from '../services/operations.js';
import { operationView } from '../views/operationView.js';
import { problems, type RouteDeps } from './common.js';
import { loadInstance } from './instances.js';

const Params = z.object({ instanceId });
const Accepted = z.object({ acl: AclBinding, operation: Operation });

/** A stable key of a binding: ACLs have no ids in Kafka, the binding itself is the identity. */
export const aclKey = (a: z.infer<typeof AclBinding>) =>
  [a.resourceType, a.patternType, a.resourceName, a.principal, a.host, a.operation, a.permission].join('|');

/** Kafka ACLs of an instance: read from the cluster, changed through CreateAcls/DeleteAcls. */
export type AclRoutesOptions = Pick<RouteDeps, 'prisma' | 'pool' | 'access' | 'queue' | 'cluster'>;

export const aclRoutes: FastifyPluginAsyncZod<AclRoutesOptions> = async (app, deps) => {
  const { prisma, access, queue, cluster } = deps;

  app.post(
    '/v1/instances/:instanceId/acls',
    {
      schema: {
        tags: ['acls'],
        summary: 'Add an ACL binding (Kafka semantics: deny wins, literal or prefixed patterns)',
        params: Params,
        body: NewAclBinding,
        response: { 202: Accepted, ...problems(409, 501, 502) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      await access.require(p, 'kafka:CreateAcl', ins.accountId, `instance/${ins.id}/acl`);
      await cluster.listAcls(ins.id, ins.brokers);
      const acl = req.body;
      const target = `instance/${ins.id}/acl/${aclKey(acl)}`;
      const { operation } = await inTransactionWithOperation(prisma, queue, async (tx) => {
        const operation = await createOperation(tx, p, {
          accountId: ins.accountId,
          instanceId: ins.id,
          kind: 'acl.create',
          target,
          input: acl,
        });
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'CreateAcl',
          resource: `instance/${ins.id}/acl`,
          details: { ...acl, operationId: operation.id },
        });
        return { operation };
      });
      reply.code(202);
      return { acl, operation: operationView(operation) };
    },
  );

  app.get(
    '/v1/instances/:instanceId/acls',
    {
      schema: {
        tags: ['acls'],
        summary: "List ACL bindings (read from the instance's cluster)",
        params: Params,
        querystring: PageQuery.extend(AclFilterQuery.shape),
        response: { 200: pageOf(AclBinding), ...problems(409, 501, 502) },
      },
    },
    async (req) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      await access.require(p, 'kafka:ListAcls', ins.accountId, `instance/${ins.id}/acl`);
      const q = req.query;
      const after = decodeCursor(q.cursor);
      const all = (await cluster.listAcls(ins.id, ins.brokers))
        .map((a) => a as z.infer<typeof AclBinding>)
        .filter(
          (a) =>
            (!q.resourceType || a.resourceType === q.resourceType) &&
            (!q.resourceName || a.resourceName === q.resourceName) &&
            (!q.principal || a.principal === q.principal),
        )
        .sort((a, b) => aclKey(a).localeCompare(aclKey(b)))
        .filter((a) => !after || aclKey(a) > after);
      const items = all.slice(0, q.limit);
      return {
        items,
        nextCursor: all.length > items.length ? encodeCursor(aclKey(items[items.length - 1]!)) : null,
      };
    },
  );

  app.post(
    '/v1/instances/:instanceId/acls/delete',
    {
      schema: {
        tags: ['acls'],
        summary: 'Remove an ACL binding (the body names it exactly)',
        params: Params,
        body: AclBindingRequest,
        response: { 202: Accepted, ...problems(409, 501, 502) },
      },
    },
    async (req, reply) => {
      const p = requirePrincipal(req);
      const ins = await loadInstance(deps, access, p, req.params.instanceId, 'kafka:DescribeInstance');
      await access.require(p, 'kafka:DeleteAcl', ins.accountId, `instance/${ins.id}/acl`);
      const acl = req.body;
      const existing = await cluster.listAcls(ins.id, ins.brokers);
      if (!existing.some((a) => aclKey(a as z.infer<typeof AclBinding>) === aclKey(acl)))
        throw notFound('ACL binding');
      const target = `instance/${ins.id}/acl/${aclKey(acl)}`;
      const { operation } = await inTransactionWithOperation(prisma, queue, async (tx) => {
        const operation = await createOperation(tx, p, {
          accountId: ins.accountId,
          instanceId: ins.id,
          kind: 'acl.delete',
          target,
          input: acl,
        });
        await recordAudit(tx, p, {
          accountId: ins.accountId,
          action: 'DeleteAcl',
          resource: `instance/${ins.id}/acl`,
          details: { ...acl, operationId: operation.id },
        });
        return { operation };
      });
      reply.code(202);
      return { acl, operation: operationView(operation) };
    },
  );
};
