import { type RateWindow, SampledRate, throttleTimeMs } from './SampledRate.js';

/**
 * The bandwidth an instance is sold with (`fjord.instance.bandwidth.bytes.per.second`), applied
 * to client traffic in each direction: produce bytes in and fetch bytes out each get the limit.
 * Every broker enforces its share (limit / live brokers), as Kafka enforces quotas per broker;
 * the client whose request crosses the line is throttled like a client-quota violation.
 */
export class InstanceBandwidthQuota {
  private readonly ingress: SampledRate;
  private readonly egress: SampledRate;

  constructor(
    /** Changed in place when the instance's spec changes (a dynamic broker config). */
    public bytesPerSecond: number,
    window: RateWindow,
  ) {
    this.ingress = new SampledRate(window);
    this.egress = new SampledRate(window);
  }

  record(direction: 'in' | 'out', bytes: number, liveBrokers: number, nowMs: number): number {
    const rate = direction === 'in' ? this.ingress : this.egress;
    rate.record(bytes, nowMs);
    return throttleTimeMs(rate, this.share(liveBrokers), nowMs);
  }

  unrecord(direction: 'in' | 'out', bytes: number, nowMs: number): void {
    (direction === 'in' ? this.ingress : this.egress).record(-bytes, nowMs);
  }

  maxBytesInWindow(liveBrokers: number): number {
    const w = this.ingress.window;
    return this.share(liveBrokers) * (w.samples - 1) * (w.windowMs / 1000);
  }

  private share(liveBrokers: number): number {
    return this.bytesPerSecond / Math.max(1, liveBrokers);
  }
}
