import type { PrismaClient } from '@fjord/db';
import type { AllowedNetworks } from '@fjord/egress';
import type { Pool } from 'pg';
import type { LoggerOptions } from 'pino';
import type { TokenService } from './auth/tokens.js';
import type { RateLimitSettings } from './http/rateLimiter.js';
import type { SharedLimitStore, TokenExchangeLimitSettings } from './http/tokenExchangeLimits.js';
import type { ClusterAdmin } from './services/clusterAdmin.js';
import type { MetricsReader } from './services/metricsQuery.js';
import type { OperationQueue } from './services/operationQueue.js';

/** What the API is built from; `server.ts` wires the real ones, tests may wire others. */
export interface ApiDeps {
  readonly prisma: PrismaClient;
  /** node-postgres pool for hot reads (same database). */
  readonly pool: Pool;
  readonly queue: OperationQueue;
  readonly tokens: TokenService;
  readonly rateLimit: RateLimitSettings;
  /** Where limits shared by every API process live (Redis). */
  readonly sharedLimits: SharedLimitStore;
  readonly tokenExchangeLimits: TokenExchangeLimitSettings;
  /** Reads topics (and the like) from the instance's cluster itself. */
  readonly cluster: ClusterAdmin;
  /** Seals secrets (SASL passwords) that operations carry to the worker. */
  readonly adminSecret: string;
  /** Charts from the control plane's Prometheus; monitoring routes answer 503 without it. */
  readonly metrics?: MetricsReader;
  /** Token of the monitoring stack's `/internal/*` routes; they do not exist without it. */
  readonly internalToken?: string;
  readonly logger?: LoggerOptions | false;
  /** The web console's built files, served under /console/ when present. */
  readonly consoleDir?: string;
  /** Non-public networks alarm webhooks may point at (public addresses always may). */
  readonly webhookAllowedNetworks?: AllowedNetworks;
  /** Non-public networks connectors may connect to (public addresses always may). */
  readonly connectorAllowedNetworks?: AllowedNetworks;
}
