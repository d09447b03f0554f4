import { createHash } from 'node:crypto';
import type { PrismaClient } from '@fjord/db';
import { ApiProblem } from '../problem.js';

const TTL_MS = 24 * 3600 * 1000;
/**
 * A claim is a lease: the process running the request renews it every LEASE_MS / 3 until the
 * answer is stored, so a claim left by a crashed API process frees itself within LEASE_MS.
 */
export const LEASE_MS = 30_000;
const PENDING = { pending: true } as const;
/** Response headers worth replaying; the rest (dates, rate limits) describe the replay itself. */
const REPLAYED_HEADERS = ['content-type', 'etag', 'location'];

export interface StoredResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export type IdempotencyClaim =
  | { kind: 'fresh'; release: () => void }
  | { kind: 'replay'; response: StoredResponse };

export function requestHash(method: string, url: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${url}\n${JSON.stringify(body ?? null)}`)
    .digest('hex');
}

export function validateKey(key: string): void {
  if (key.length < 1 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key))
    throw new ApiProblem('validation_failed', 'Idempotency-Key must be 1-255 visible ASCII characters', {
      errors: [{ path: 'headers/idempotency-key', message: 'invalid key', code: 'invalid_idempotency_key' }],
    });
}

/**
 * `Idempotency-Key` on POSTs: the first request claims the key (a pending row, leased), its
 * response is stored when sent; a retry with the same key and the same request gets that response
 * again, a different request with the key is refused, and a retry while the first is still running
 * gets 409 with Retry-After. A claim whose process died lapses with its lease and is taken over.
 */
export class IdempotencyStore {
  constructor(private readonly prisma: PrismaClient) {}

  async claim(scope: string, key: string, hash: string): Promise<IdempotencyClaim> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const created = await this.prisma.idempotencyRecord.createMany({
        data: [
          {
            accountId: scope,
            key,
            requestHash: hash,
            response: PENDING,
            expiresAt: new Date(Date.now() + LEASE_MS),
          },
        ],
        skipDuplicates: true,
      });
      if (created.count === 1) return { kind: 'fresh', release: this.renew(scope, key) };
      const existing = await this.prisma.idempotencyRecord.findUnique({
        where: { accountId_key: { accountId: scope, key } },
      });
      if (!existing) continue;
      if (existing.expiresAt.getTime() < Date.now()) {
        await this.prisma.idempotencyRecord.deleteMany({
          where: { accountId: scope, key, expiresAt: existing.expiresAt },
        });
        continue;
      }
      if (existing.requestHash !== hash)
        throw new ApiProblem(
          'idempotency_key_reused',
          'this Idempotency-Key was used for a different request',
        );
      const response = existing.response as unknown as StoredResponse | typeof PENDING;
      if ('pending' in response) throw inProgress(existing.expiresAt.getTime() - Date.now());
      return { kind: 'replay', response };
    }
    throw inProgress(LEASE_MS);
  }

  /** Keeps a pending claim's lease alive until the returned function is called. */
  private renew(scope: string, key: string): () => void {
    const timer = setInterval(() => {
      void this.prisma.idempotencyRecord
        .updateMany({
          where: { accountId: scope, key, response: { equals: PENDING } },
          data: { expiresAt: new Date(Date.now() + LEASE_MS) },
        })
        .catch(() => {});
    }, LEASE_MS / 3);
    timer.unref();
    return () => clearInterval(timer);
  }

  async complete(scope: string, key: string, status: number, headers: Record<string, unknown>, body: string) {
    // Server errors are not final: release the key so the client's retry runs again.
    if (status >= 500) {
      await this.prisma.idempotencyRecord.deleteMany({ where: { accountId: scope, key } });
      return;
    }
    const kept: Record<string, string> = {};
    for (const h of REPLAYED_HEADERS) if (headers[h] !== undefined) kept[h] = String(headers[h]);
    const stored: StoredResponse = { status, headers: kept, body };
    await this.prisma.idempotencyRecord.update({
      where: { accountId_key: { accountId: scope, key } },
      data: { response: stored as unknown as object, expiresAt: new Date(Date.now() + TTL_MS) },
    });
  }
}

function inProgress(leaseLeftMs: number): ApiProblem {
  return new ApiProblem(
    'idempotency_in_progress',
    'a request with this Idempotency-Key is still being processed',
    {
      headers: { 'retry-after': String(Math.max(1, Math.ceil(leaseLeftMs / 1000))) },
    },
  );
}
