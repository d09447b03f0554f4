import { type RateWindow, SampledRate } from './SampledRate.js';

/**
 * One direction of Kafka's ReplicationQuotaManager: the replication bytes of throttled replicas
 * measured over the quota window, and whether they are above the configured rate. Unlike client
 * quotas there is no throttle time: an exceeded quota means the throttled replicas get (or ask
 * for) no data until the rate falls back under the bound.
 */
export class ReplicationQuota {
  private readonly rate: SampledRate;

  constructor(window: RateWindow) {
    this.rate = new SampledRate(window);
  }

  record(bytes: number, nowMs: number): void {
    this.rate.record(bytes, nowMs);
  }

  exceeded(bytesPerSecond: number, nowMs: number): boolean {
    return bytesPerSecond < Number.MAX_SAFE_INTEGER && this.rate.measure(nowMs) > bytesPerSecond;
  }
}
