export interface RateLimitSettings {
  /** Sustained requests per second per key. */
  readonly ratePerSecond: number;
  /** Bucket size: how many requests may come at once. */
  readonly burst: number;
}

export interface RateLimitDecision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until the bucket is full again (RateLimit-Reset). */
  readonly resetSeconds: number;
  /** Seconds until one request would be allowed (Retry-After), 0 when allowed. */
  readonly retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets per key, in memory; time is passed in so the arithmetic is testable. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly settings: RateLimitSettings) {}

  get ratePerSecond(): number {
    return this.settings.ratePerSecond;
  }

  take(key: string, nowMs: number): RateLimitDecision {
    const { ratePerSecond: rate, burst } = this.settings;
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: burst, at: nowMs };
      this.buckets.set(key, b);
      if (this.buckets.size > 100_000) this.evictFull(nowMs);
    }
    b.tokens = Math.min(burst, b.tokens + ((nowMs - b.at) / 1000) * rate);
    b.at = nowMs;
    const allowed = b.tokens >= 1;
    if (allowed) b.tokens -= 1;
    return {
      allowed,
      limit: burst,
      remaining: Math.floor(b.tokens),
      resetSeconds: Math.ceil((burst - b.tokens) / rate),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - b.tokens) / rate)),
    };
  }

  private evictFull(nowMs: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + ((nowMs - b.at) / 1000) * this.settings.ratePerSecond >= this.settings.burst)
        this.buckets.delete(k);
    }
  }
}
