import {
  type AclBinding,
  type AclBindingFilter,
  AclOperation,
  aclOperationOf,
  PatternType,
  patternTypeOf,
  permissionTypeOf,
  planCreateAcls,
  planDeleteAcls,
  resourceTypeOf,
} from '@fjord/metadata';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';
import { InvalidRequestError } from '../InvalidRequestError.js';
import { authorizeCluster } from '../RequestAuthorizer.js';
import { code } from './errors.js';

interface RawFilter {
  resourceTypeFilter: number;
  resourceNameFilter: string | null;
  patternTypeFilter: number;
  principalFilter: string | null;
  hostFilter: string | null;
  operation: number;
  permissionType: number;
}

/**
 * Decodes a DescribeAcls/DeleteAcls filter as Kafka's request classes normalise it: v0 knows only
 * literal patterns (ANY becomes LITERAL), and a filter with an UNKNOWN element is a malformed
 * request.
 */
function toFilter(raw: RawFilter, version: number): AclBindingFilter {
  let patternType = patternTypeOf(raw.patternTypeFilter);
  if (version === 0) {
    if (patternType === PatternType.ANY) patternType = PatternType.LITERAL;
    else if (patternType !== PatternType.LITERAL)
      throw new InvalidRequestError('Version 0 only supports literal resource pattern types');
  }
  const filter: AclBindingFilter = {
    resourceType: resourceTypeOf(raw.resourceTypeFilter),
    resourceName: raw.resourceNameFilter,
    patternType,
    principal: raw.principalFilter,
    host: raw.hostFilter,
    operation: aclOperationOf(raw.operation),
    permissionType: permissionTypeOf(raw.permissionType),
  };
  if (
    filter.patternType === PatternType.UNKNOWN ||
    filter.resourceType === 0 ||
    filter.operation === 0 ||
    filter.permissionType === 0
  )
    throw new InvalidRequestError('ACL filter contains UNKNOWN elements');
  return filter;
}

/** DescribeAcls: needs DESCRIBE on the cluster; answers from this broker's metadata image. */
export const describeAclsHandler = defineHandler({
  apiKey: ApiKey.DescribeAcls,
  minVersion: 0,
  maxVersion: 3,
  handle(req, ctx: RequestContext) {
    const filter = toFilter(req, ctx.apiVersion);
    const fail = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      resources: [],
    });
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE))
      return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    if (!ctx.broker.authorizer)
      return fail(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured on the broker');
    // Grouped by resource pattern, as DescribeAclsResponse.aclsResources.
    const byPattern = new Map<string, { b: AclBinding; acls: AclBinding[] }>();
    for (const [, b] of ctx.broker.metadata.image.acls.matching(filter)) {
      const k = `${b.resourceType}\u0000${b.patternType}\u0000${b.resourceName}`;
      const group = byPattern.get(k);
      if (group) group.acls.push(b);
      else byPattern.set(k, { b, acls: [b] });
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      resources: [...byPattern.values()].map(({ b, acls }) => ({
        resourceType: b.resourceType,
        resourceName: b.resourceName,
        patternType: b.patternType,
        acls: acls.map((a) => ({
          principal: a.principal,
          host: a.host,
          operation: a.operation,
          permissionType: a.permissionType,
        })),
      })),
    };
  },
});

/** CreateAcls: needs ALTER on the cluster; the controller validates and stores each binding. */
export const createAclsHandler = defineHandler({
  apiKey: ApiKey.CreateAcls,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx: RequestContext) {
    const bindings = req.creations.map((c): AclBinding => {
      const b: AclBinding = {
        resourceType: resourceTypeOf(c.resourceType),
        resourceName: c.resourceName,
        patternType: patternTypeOf(c.resourcePatternType),
        principal: c.principal,
        host: c.host,
        operation: aclOperationOf(c.operation),
        permissionType: permissionTypeOf(c.permissionType),
      };
      if (ctx.apiVersion === 0 && b.patternType !== PatternType.LITERAL)
        throw new InvalidRequestError('Version 0 only supports literal resource pattern types');
      if (b.patternType === 0 || b.resourceType === 0 || b.operation === 0 || b.permissionType === 0)
        throw new InvalidRequestError('CreatableAcls contain unknown elements');
      return b;
    });
    const all = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      results: bindings.map(() => ({ errorCode, errorMessage })),
    });
    if (!authorizeCluster(ctx, AclOperation.ALTER))
      return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    if (!ctx.broker.authorizer) return all(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    const plan = await ctx.broker.metadataQueue.submit((image) => planCreateAcls(image, bindings));
    for (const [i, r] of plan.results.entries())
      if (r.error === null)
        ctx.broker.log.info({ principal: ctx.connection.principal, acl: bindings[i] }, 'ACL created');
    return {
      throttleTimeMs: 0,
      results: plan.results.map((r) => ({
        errorCode: r.error ? code(r.error) : ErrorCode.NONE,
        errorMessage: r.message,
      })),
    };
  },
});

/** DeleteAcls: needs ALTER on the cluster; each filter reports the bindings it removed. */
export const deleteAclsHandler = defineHandler({
  apiKey: ApiKey.DeleteAcls,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx: RequestContext) {
    const filters = req.filters.map((f) => toFilter(f, ctx.apiVersion));
    const all = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      filterResults: filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })),
    });
    if (!authorizeCluster(ctx, AclOperation.ALTER))
      return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    if (!ctx.broker.authorizer) return all(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    const plan = await ctx.broker.metadataQueue.submit((image) => planDeleteAcls(image, filters));
    return {
      throttleTimeMs: 0,
      filterResults: plan.results.map((r) => ({
        errorCode: r.error ? code(r.error) : ErrorCode.NONE,
        errorMessage: r.message,
        matchingAcls: r.deleted.map((b) => ({
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          resourceType: b.resourceType,
          resourceName: b.resourceName,
          patternType: b.patternType,
          principal: b.principal,
          host: b.host,
          operation: b.operation,
          permissionType: b.permissionType,
        })),
      })),
    };
  },
});
