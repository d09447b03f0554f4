import {
  type AclOperationCode,
  CLUSTER_NAME,
  operationName,
  ResourceType,
  type ResourceTypeCode,
  resourceTypeName,
} from '@fjord/metadata';
import { Authorizer, type Requester } from '../security/Authorizer.js';
import type { RequestContext } from './BrokerServices.js';

/**
 * The authorization calls handlers make, as Kafka's AuthHelper: with no authorizer configured
 * everything is allowed. Denials of resources the client asked for by name are logged (Kafka's
 * audit log at INFO); filtering (listing what one may see) is not.
 */
export function requester(ctx: RequestContext): Requester {
  return { principal: ctx.connection.principal, host: ctx.connection.clientAddress };
}

export function authorize(
  ctx: RequestContext,
  operation: AclOperationCode,
  resourceType: ResourceTypeCode,
  resourceName: string,
  logIfDenied = true,
): boolean {
  const authorizer = ctx.broker.authorizer;
  // No authorizer, or the broker's own in-process requests.
  if (!authorizer || ctx.connection.internal) return true;
  const who = requester(ctx);
  const rule = authorizer.explain(ctx.broker.metadata.image.acls, who, operation, resourceType, resourceName);
  const allowed = rule.kind === 'SuperUser' || rule.kind === 'DefaultAllow' || rule.kind === 'Allow';
  if (!allowed && logIfDenied)
    ctx.broker.log.info(
      {
        principal: who.principal,
        host: who.host,
        operation: operationName(operation),
        resource: `${resourceTypeName(resourceType)}:LITERAL:${resourceName}`,
        apiKey: ctx.apiKey,
        rule: rule.kind,
      },
      'authorization denied',
    );
  return allowed;
}

export function authorizeCluster(
  ctx: RequestContext,
  operation: AclOperationCode,
  logIfDenied = true,
): boolean {
  return authorize(ctx, operation, ResourceType.CLUSTER, CLUSTER_NAME, logIfDenied);
}

/** The distinct names among `names` the requester may `operation` (each checked once). */
export function filterAuthorized(
  ctx: RequestContext,
  operation: AclOperationCode,
  resourceType: ResourceTypeCode,
  names: Iterable<string>,
  logIfDenied = true,
): Set<string> {
  const out = new Set<string>();
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    if (authorize(ctx, operation, resourceType, name, logIfDenied)) out.add(name);
  }
  return out;
}

export function authorizeByResourceType(
  ctx: RequestContext,
  operation: AclOperationCode,
  resourceType: ResourceTypeCode,
): boolean {
  const authorizer = ctx.broker.authorizer;
  if (!authorizer || ctx.connection.internal) return true;
  return authorizer.authorizeByResourceType(
    ctx.broker.metadata.image.acls,
    requester(ctx),
    operation,
    resourceType,
  );
}

/** Kafka's authorized-operations bit field; every supported operation when there is no authorizer. */
export function authorizedOperations(
  ctx: RequestContext,
  resourceType: ResourceTypeCode,
  name: string,
): number {
  const authorizer = ctx.broker.authorizer;
  if (!authorizer) {
    const all = new Authorizer({
      superUsers: new Set([ctx.connection.principal]),
      allowEveryoneIfNoAclFound: true,
    });
    return all.authorizedOperations(ctx.broker.metadata.image.acls, requester(ctx), resourceType, name);
  }
  return authorizer.authorizedOperations(ctx.broker.metadata.image.acls, requester(ctx), resourceType, name);
}
