import { accountRoutes } from './accounts.js';
import { aclRoutes } from './acls.js';
import { apiKeyRoutes } from './apiKeys.js';
import { auditRoutes } from './audit.js';
import { authRoutes } from './auth.js';
import type { App, RouteDeps } from './common.js';
import { grantRoutes } from './grants.js';
import { groupRoutes } from './groups.js';
import { instanceRoutes } from './instances.js';
import { messageRoutes } from './messages.js';
import { operationRoutes } from './operations.js';
import { policyRoutes } from './policies.js';
import { subAccountRoutes } from './subAccounts.js';
import { topicRoutes } from './topics.js';
import { userRoutes } from './users.js';
import { zoneRoutes } from './zones.js';

export async function registerRoutes(app: App, deps: RouteDeps): Promise<void> {
  authRoutes(app, deps);
  accountRoutes(app, deps);
  subAccountRoutes(app, deps);
  policyRoutes(app, deps);
  apiKeyRoutes(app, deps);
  grantRoutes(app, deps);
  zoneRoutes(app, deps);
  instanceRoutes(app, deps);
  operationRoutes(app, deps);
  topicRoutes(app, deps);
  userRoutes(app, deps);
  aclRoutes(app, deps);
  groupRoutes(app, deps);
  messageRoutes(app, deps);
  auditRoutes(app, deps);
}
