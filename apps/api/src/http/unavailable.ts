const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);
// Prisma's "can't reach / timed out / connection closed / pool timeout / transaction could not start
// or expired", PostgreSQL's shutdown states.
const PRISMA_CODES = new Set([
  'P1001',
  'P1002',
  'P1008',
  'P1017',
  'P2024',
  'P2028',
  '57P01',
  '57P02',
  '57P03',
  '08006',
  '08001',
]);
const MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection (is )?(closed|refused)/i,
  /enableOfflineQueue/i,
  /Connection is closed/i,
  /MaxRetriesPerRequest/i,
  /can't reach database server/i,
  /Client has encountered a connection error/i,
];

/** Whether an error means a backing service (PostgreSQL, Redis) is unreachable: answer 503, not 500. */
export function isBackendUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 6) return false;
  const e = err as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
    originalCode?: unknown;
  };
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || PRISMA_CODES.has(e.code))) return true;
  if (typeof e.originalCode === 'string' && PRISMA_CODES.has(e.originalCode)) return true;
  if (typeof e.message === 'string' && MESSAGES.some((m) => m.test(e.message as string))) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isBackendUnavailable(x, depth + 1))) return true;
  return isBackendUnavailable(e.cause, depth + 1);
}
