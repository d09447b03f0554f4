/** Kafka's quota.window.num and quota.window.size.seconds. */
export interface RateWindow {
  readonly samples: number;
  readonly windowMs: number;
}

interface Sample {
  startMs: number;
  lastEventMs: number;
  value: number;
}

/**
 * A rate over sliding sample windows, exactly as Kafka's Rate over a SampledStat (the sensors
 * behind client quotas): values are summed into `samples` windows of `windowMs` (plus one that
 * may overlap the start), windows idle for the whole span are reset, and the elapsed time
 * divided by is at least `samples - 1` full windows, so a fresh sensor does not see one burst
 * as a huge rate.
 */
export class SampledRate {
  private readonly buckets: Sample[] = [];
  private current = 0;

  constructor(readonly window: RateWindow) {}

  record(value: number, nowMs: number): void {
    let sample = this.currentSample(nowMs);
    if (nowMs - sample.startMs >= this.window.windowMs) sample = this.advance(nowMs);
    sample.value += value;
    sample.lastEventMs = nowMs;
  }

  /** Per second. */
  measure(nowMs: number): number {
    this.purge(nowMs);
    let total = 0;
    for (const s of this.buckets) total += s.value;
    return total / (this.windowSize(nowMs) / 1000);
  }

  /** The span the rate is computed over, in ms (Rate.windowSize). */
  windowSize(nowMs: number): number {
    this.purge(nowMs);
    let elapsed = nowMs - this.oldest(nowMs).startMs;
    const full = Math.floor(elapsed / this.window.windowMs);
    const minFull = this.window.samples - 1;
    if (full < minFull) elapsed += (minFull - full) * this.window.windowMs;
    return Math.max(elapsed, 1);
  }

  /** When anything was last recorded (for expiring idle sensors). */
  get lastRecordMs(): number {
    let last = Number.NEGATIVE_INFINITY;
    for (const s of this.buckets) last = Math.max(last, s.lastEventMs);
    return last;
  }

  private currentSample(nowMs: number): Sample {
    if (this.buckets.length === 0) this.buckets.push({ startMs: nowMs, lastEventMs: nowMs, value: 0 });
    return this.buckets[this.current]!;
  }

  private advance(nowMs: number): Sample {
    this.current = (this.current + 1) % (this.window.samples + 1);
    if (this.current >= this.buckets.length) {
      const fresh = { startMs: nowMs, lastEventMs: nowMs, value: 0 };
      this.buckets.push(fresh);
      return fresh;
    }
    const s = this.buckets[this.current]!;
    s.startMs = nowMs;
    s.lastEventMs = nowMs;
    s.value = 0;
    return s;
  }

  private oldest(nowMs: number): Sample {
    const first = this.currentSample(nowMs);
    let oldest = first;
    for (const s of this.buckets) if (s.startMs < oldest.startMs) oldest = s;
    return oldest;
  }

  private purge(nowMs: number): void {
    const expireAge = this.window.samples * this.window.windowMs;
    for (const s of this.buckets)
      if (nowMs - s.lastEventMs >= expireAge) {
        s.startMs = nowMs;
        s.lastEventMs = nowMs;
        s.value = 0;
      }
  }
}

/**
 * QuotaUtils.throttleTime: how long the client must wait so the rate falls back to the bound,
 * given that the rate is now `value` over the rate's window.
 */
export function throttleTimeMs(rate: SampledRate, bound: number, nowMs: number): number {
  const value = rate.measure(nowMs);
  if (value <= bound) return 0;
  return Math.round(((value - bound) / bound) * rate.windowSize(nowMs));
}
