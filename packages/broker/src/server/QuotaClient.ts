import type { QuotaClient } from '../quota/QuotaManagers.js';
import type { RequestContext } from './BrokerServices.js';

/** The (principal, client-id) a request's usage counts against. */
export function quotaClient(ctx: RequestContext): QuotaClient {
  return { principal: ctx.connection.principal, clientId: ctx.clientId ?? '' };
}
