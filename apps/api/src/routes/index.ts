import type { FastifyPluginAsync } from 'fastify';
import { rateLimitKeyOf } from '../auth/principal.js';
import { requirePrincipal } from '../auth/requirePrincipal.js';
import type { ApiDeps } from '../deps.js';
import { authentication } from '../http/authentication.js';
import { conditionalGet } from '../http/conditionalGet.js';
import { IdempotencyStore } from '../http/idempotency.js';
import { idempotentReplay } from '../http/idempotentReplay.js';
import { rateLimit } from '../http/rateLimit.js';
import type { TokenBuckets } from '../http/rateLimiter.js';
import { secretCheckLimit } from '../http/secretCheckLimit.js';
import { tokenExchangeLimits } from '../http/tokenExchangeLimits.js';
import { accountRoutes } from './accounts.js';
import { aclRoutes } from './acls.js';
import { actionRoutes } from './actions.js';
import { alarmRoutes } from './alarms.js';
import { apiKeyRoutes } from './apiKeys.js';
import { auditRoutes } from './audit.js';
import { authRoutes } from './auth.js';
import { autoscalingRoutes } from './autoscaling.js';
import { channelRoutes } from './channels.js';
import type { RouteDeps } from './common.js';
import { connectorRoutes } from './connectors.js';
import { grantRoutes } from './grants.js';
import { groupRoutes } from './groups.js';
import { instanceAccessRoutes } from './instanceAccess.js';
import { instanceRoutes } from './instances.js';
import { messageRoutes } from './messages.js';
import { monitoringRoutes } from './monitoring.js';
import { operationRoutes } from './operations.js';
import { operatorKeyRoutes } from './operatorKeys.js';
import { policyRoutes } from './policies.js';
import { subAccountRoutes } from './subAccounts.js';
import { topicRoutes } from './topics.js';
import { userRoutes } from './users.js';
import { zoneRoutes } from './zones.js';

export interface V1RoutesOptions extends RouteDeps, Pick<ApiDeps, 'sharedLimits' | 'tokenExchangeLimits'> {
  /** Rate-limit budgets, shared by the public and the authenticated scope. */
  readonly buckets: TokenBuckets;
  /** Filled with the public scope's paths, so that the root's 404 handler can tell them apart. */
  readonly publicPaths: Set<string>;
}

/**
 * The `/v1` API: two encapsulated scopes. A route plugin goes in the public scope only if it
 * must work without a token; everything else goes in the authenticated scope, where the
 * authentication plugin has set `req.principal` (read it with `requirePrincipal`). Each plugin
 * gets the dependencies it declares in its options, nothing more. Registration order is the
 * order of paths in the OpenAPI document.
 */
export const v1Routes: FastifyPluginAsync<V1RoutesOptions> = async (app, deps) => {
  const { prisma, pool, access, queue, cluster, tokens, adminSecret, metrics, buckets, publicPaths } = deps;
  const { sharedLimits, tokenExchangeLimits: exchangeLimits } = deps;
  const secretChecks = secretCheckLimit(sharedLimits);

  // Public: no bearer token; limits per client address and lockouts per key, shared by every API
  // process through Redis (guessing spread over processes gains nothing).
  await app.register(async (pub) => {
    pub.addHook('onRoute', (route) => {
      publicPaths.add(route.url);
    });
    const lockout = await tokenExchangeLimits(pub, sharedLimits, exchangeLimits);
    await pub.register(authRoutes, { prisma, tokens, lockout });
  });

  // Authenticated: bearer token required, budgets per account, Idempotency-Key on POSTs.
  await app.register(async (authed) => {
    await authed.register(authentication, { tokens });
    await authed.register(rateLimit, { buckets, keyOf: (req) => rateLimitKeyOf(requirePrincipal(req)) });
    await authed.register(idempotentReplay, { store: new IdempotencyStore(prisma) });
    await authed.register(conditionalGet);

    await authed.register(accountRoutes, { prisma, access });
    await authed.register(subAccountRoutes, { prisma, access });
    await authed.register(policyRoutes, { prisma, access });
    await authed.register(actionRoutes);
    await authed.register(apiKeyRoutes, { prisma, access });
    await authed.register(operatorKeyRoutes, { prisma, access });
    await authed.register(grantRoutes, { prisma, access });
    await authed.register(zoneRoutes, { prisma, access, queue });
    await authed.register(instanceRoutes, { prisma, pool, access, queue, cluster });
    await authed.register(instanceAccessRoutes, { prisma, pool, access, queue });
    await authed.register(operationRoutes, { prisma, access });
    await authed.register(topicRoutes, { prisma, pool, access, queue, cluster });
    await authed.register(userRoutes, { prisma, pool, access, queue, cluster, adminSecret, secretChecks });
    await authed.register(aclRoutes, { prisma, pool, access, queue, cluster });
    await authed.register(groupRoutes, { prisma, pool, access, queue, cluster });
    await authed.register(messageRoutes, { prisma, pool, access, cluster });
    await authed.register(auditRoutes, { prisma, access });
    await authed.register(monitoringRoutes, { pool, access, ...(metrics ? { metrics } : {}) });
    await authed.register(alarmRoutes, { prisma, pool, access });
    await authed.register(autoscalingRoutes, { prisma, pool, access, ...(metrics ? { metrics } : {}) });
    await authed.register(channelRoutes, {
      prisma,
      access,
      adminSecret,
      ...(deps.webhookAllowedNetworks ? { webhookAllowedNetworks: deps.webhookAllowedNetworks } : {}),
    });
    await authed.register(connectorRoutes, {
      prisma,
      pool,
      access,
      adminSecret,
      secretChecks,
      ...(deps.connectorAllowedNetworks ? { connectorAllowedNetworks: deps.connectorAllowedNetworks } : {}),
    });
  });
};
