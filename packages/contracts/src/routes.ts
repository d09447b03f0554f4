import { z } from 'zod';
import type { AclBinding } from './access.js';

/** An IPv4 CIDR (`203.0.113.0/24`) or IPv6 CIDR (`2001:db8::/32`); a bare address means /32 or /128. */
export function parseCidr(text: string): { readonly family: 4 | 6; readonly bits: number } | undefined {
  const [address, prefix, extra] = text.split('/');
  if (address === undefined || extra !== undefined) return undefined;
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  if (prefix === undefined) return { family, bits: max };
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return undefined;
  return { family, bits: Number(prefix) };
}

function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.split('::').length > 2) return false;
  const [head = '', tail] = s.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const all = [...groups(head), ...(tail === undefined ? [] : groups(tail))];
  // An embedded IPv4 address (::ffff:192.0.2.1) counts as two groups.
  const last = all.at(-1);
  const v4 = last?.includes('.') === true;
  if (v4 && !isIPv4(last!)) return false;
  const hex = v4 ? all.slice(0, -1) : all;
  if (!hex.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  const count = hex.length + (v4 ? 2 : 0);
  return tail === undefined ? count === 8 : count < 8;
}

export const Cidr = z
  .string()
  .max(64)
  .refine((s) => parseCidr(s) !== undefined, 'an IPv4 or IPv6 CIDR such as 203.0.113.0/24 or 2001:db8::/32');

/** Everyone: the default allowlist, returned explicitly so that a route says who may connect. */
export const ANYWHERE = ['0.0.0.0/0', '::/0'] as const;

const AllowedCidrs = z
  .array(Cidr)
  .min(1)
  .max(100)
  .refine((l) => new Set(l).size === l.length, 'CIDRs must be distinct')
  .default(() => [...ANYWHERE])
  .describe(
    'who may connect: a connection from any other address is closed when accepted, before TLS or SASL',
  );

/** PEM certificates, as a client CA bundle. */
const PemBundle = z
  .string()
  .max(65_536)
  .regex(/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/, 'PEM certificates');

const InternalRoute = z.strictObject({
  type: z.literal('internal').describe('VPC: reachable from the tenant network only'),
  securityProtocol: z
    .enum(['PLAINTEXT', 'SASL_PLAINTEXT', 'SASL_SSL'])
    .default('PLAINTEXT')
    .describe('PLAINTEXT clients act as User:ANONYMOUS, which the instance grants its topics and groups'),
  allowedCidrs: AllowedCidrs,
});

const PublicRoute = z.strictObject({
  type: z.literal('public').describe('reachable from the internet: always TLS'),
  securityProtocol: z
    .enum(['SASL_SSL', 'SSL'])
    .default('SASL_SSL')
    .describe('SASL_SSL: SCRAM users over TLS; SSL: mutual TLS, clients named User:<certificate CN>'),
  allowedCidrs: AllowedCidrs,
  clientCaBundle: PemBundle.optional().describe(
    "SSL (mutual TLS) only: the CA certificates that sign your clients' certificates",
  ),
});

function clientCaRule(
  r: { securityProtocol: string; clientCaBundle?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (r.securityProtocol === 'SSL' && r.clientCaBundle === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['clientCaBundle'],
      message: 'mutual TLS needs the CA that signs your clients',
    });
  if (r.securityProtocol !== 'SSL' && r.clientCaBundle !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['clientCaBundle'],
      message: 'only SSL (mutual TLS) routes take a client CA',
    });
}

export const AccessRoute = z
  .discriminatedUnion('type', [InternalRoute, PublicRoute])
  .superRefine((r, ctx) => clientCaRule(r, ctx))
  .meta({ id: 'AccessRoute' });
export type AccessRoute = z.infer<typeof AccessRoute>;
export type RouteType = AccessRoute['type'];

/** `PUT /v1/instances/{id}/routes/{type}` bodies: the whole route, as it should be. */
export const RouteBodies = {
  internal: InternalRoute.omit({ type: true }),
  public: PublicRoute.omit({ type: true }).superRefine((r, ctx) => clientCaRule(r, ctx)),
} as const;

export const DEFAULT_ACCESS_ROUTES: readonly AccessRoute[] = [
  { type: 'internal', securityProtocol: 'PLAINTEXT', allowedCidrs: [...ANYWHERE] },
  { type: 'public', securityProtocol: 'SASL_SSL', allowedCidrs: [...ANYWHERE] },
];

/** The broker listener a route is served on. */
export const listenerOfRoute = (type: RouteType) => (type === 'internal' ? 'INTERNAL' : 'PUBLIC');

/** Whether a route's clients speak TLS to the brokers. */
export const usesTls = (r: Pick<AccessRoute, 'securityProtocol'>) =>
  r.securityProtocol === 'SASL_SSL' || r.securityProtocol === 'SSL';

/**
 * Whether going from `before` to `after` changes the brokers' listeners (a route added or removed,
 * its protocol or client CA changed), which takes a rolling restart; allowlists alone change live.
 */
export function routeChangeNeedsRestart(
  before: readonly AccessRoute[],
  after: readonly AccessRoute[],
): boolean {
  const shape = (routes: readonly AccessRoute[]) =>
    JSON.stringify(
      [...routes]
        .sort((a, b) => a.type.localeCompare(b.type))
        .map((r) => [r.type, r.securityProtocol, r.type === 'public' ? (r.clientCaBundle ?? null) : null]),
    );
  return shape(before) !== shape(after);
}

/**
 * What clients of a PLAINTEXT VPC route (Kafka's principal `User:ANONYMOUS`) may do: produce,
 * consume, use groups and transactions, and manage topics, as on a trusted network — but not
 * what only the control plane and brokers do (ACLs, SCRAM users, quotas, broker configs,
 * reassignments: CLUSTER Alter/AlterConfigs; replication: ClusterAction). They are ordinary ACLs,
 * visible in the instance's ACL list; the instance grants them while such a route exists.
 */
export const VPC_PLAINTEXT_GRANTS: readonly AclBinding[] = [
  ...(['topic', 'group', 'transactionalId'] as const).map((resourceType) => ({
    resourceType,
    resourceName: '*',
    operation: 'all' as const,
  })),
  ...(['describe', 'create', 'idempotentWrite', 'describeConfigs'] as const).map((operation) => ({
    resourceType: 'cluster' as const,
    resourceName: 'kafka-cluster',
    operation,
  })),
].map((a) => ({ ...a, patternType: 'literal', principal: 'User:ANONYMOUS', host: '*', permission: 'allow' }));

/** Whether the routes include one whose clients are anonymous (PLAINTEXT). */
export const hasAnonymousRoute = (routes: readonly AccessRoute[]) =>
  routes.some((r) => r.securityProtocol === 'PLAINTEXT');
