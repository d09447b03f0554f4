import { AclOperation, describeClientQuotas, planAlterClientQuotas } from '@fjord/metadata';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';
import { authorizeCluster } from '../RequestAuthorizer.js';
import { code } from './errors.js';

/** DescribeClientQuotas (KIP-546): needs DESCRIBE_CONFIGS on the cluster. */
export const describeClientQuotasHandler = defineHandler({
  apiKey: ApiKey.DescribeClientQuotas,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx: RequestContext) {
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE_CONFIGS))
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: 'Cluster authorization failed.',
        entries: null,
      };
    const r = describeClientQuotas(ctx.broker.metadata.image, req.components, req.strict);
    if (!r.ok) return { throttleTimeMs: 0, errorCode: code(r.error), errorMessage: r.message, entries: null };
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      entries: r.entries.map((e) => ({
        entity: e.entity.map((p) => ({ entityType: p.entityType, entityName: p.entityName })),
        values: [...e.values].map(([key, value]) => ({ key, value })),
      })),
    };
  },
});

/** AlterClientQuotas (KIP-546): needs ALTER_CONFIGS on the cluster; quotas live in the metadata log. */
export const alterClientQuotasHandler = defineHandler({
  apiKey: ApiKey.AlterClientQuotas,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx: RequestContext) {
    const alterations = req.entries.map((e) => ({
      entity: e.entity.map((p) => ({ entityType: p.entityType, entityName: p.entityName })),
      ops: e.ops.map((o) => ({ key: o.key, value: o.remove ? null : o.value })),
    }));
    const entity = (i: number) => req.entries[i]!.entity.map((p) => ({ ...p }));
    if (!authorizeCluster(ctx, AclOperation.ALTER_CONFIGS))
      return {
        throttleTimeMs: 0,
        entries: alterations.map((_, i) => ({
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: 'Cluster authorization failed.',
          entity: entity(i),
        })),
      };
    const plan = req.validateOnly
      ? planAlterClientQuotas(ctx.broker.metadata.image, alterations)
      : await ctx.broker.metadataQueue.submit((image) => planAlterClientQuotas(image, alterations));
    return {
      throttleTimeMs: 0,
      entries: plan.results.map((r, i) => ({
        errorCode: r.error ? code(r.error) : ErrorCode.NONE,
        errorMessage: r.message,
        entity: entity(i),
      })),
    };
  },
});
