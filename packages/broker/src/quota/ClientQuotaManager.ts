import type { ClientQuotasImage } from '@fjord/metadata';
import { type ClientQuotaKey, resolveClientQuota } from './ClientQuotaResolver.js';
import { type RateWindow, SampledRate, throttleTimeMs } from './SampledRate.js';

/** Sensors unused this long are dropped (Kafka's inactive sensor expiration). */
const SENSOR_EXPIRY_MS = 3_600_000;

/**
 * One kind of client quota (produce bytes, fetch bytes or request time), as Kafka's
 * ClientQuotaManager: usage is recorded against the sensor the quota entities choose, and a
 * client whose rate is then above the bound gets a throttle time. Clients no quota applies to
 * are not tracked at all, so quotas cost nothing until one is set.
 */
export class ClientQuotaManager {
  private readonly sensors = new Map<string, SampledRate>();
  private lastSweepMs = 0;

  constructor(
    readonly key: ClientQuotaKey,
    readonly window: RateWindow,
    /** Upper bound on a throttle (request quotas: one window); none for byte rates. */
    private readonly maxThrottleMs = Number.POSITIVE_INFINITY,
  ) {}

  /** Records `value` for the client; returns how long it must be throttled (0: within its quota). */
  record(quotas: ClientQuotasImage, user: string, clientId: string, value: number, nowMs: number): number {
    const q = resolveClientQuota(quotas, this.key, user, clientId);
    if (!q) return 0;
    const sensor = this.sensor(q.sensorUser, q.sensorClientId, nowMs);
    sensor.record(value, nowMs);
    return Math.min(throttleTimeMs(sensor, q.bound, nowMs), this.maxThrottleMs);
  }

  /** Takes back a recorded value (a throttled fetch returns no data, so its bytes do not count). */
  unrecord(quotas: ClientQuotasImage, user: string, clientId: string, value: number, nowMs: number): void {
    const q = resolveClientQuota(quotas, this.key, user, clientId);
    if (q) this.sensor(q.sensorUser, q.sensorClientId, nowMs).record(-value, nowMs);
  }

  /** The most that can be recorded at once without certain throttling (bounds fetch sizes). */
  maxValueInWindow(quotas: ClientQuotasImage, user: string, clientId: string): number {
    const q = resolveClientQuota(quotas, this.key, user, clientId);
    if (!q) return Number.POSITIVE_INFINITY;
    return q.bound * (this.window.samples - 1) * (this.window.windowMs / 1000);
  }

  /** Current rate of the client's sensor (for tests and metrics); undefined when untracked. */
  rate(quotas: ClientQuotasImage, user: string, clientId: string, nowMs: number): number | undefined {
    const q = resolveClientQuota(quotas, this.key, user, clientId);
    return q ? this.sensors.get(`${q.sensorUser}\u0000${q.sensorClientId}`)?.measure(nowMs) : undefined;
  }

  private sensor(user: string, clientId: string, nowMs: number): SampledRate {
    if (nowMs - this.lastSweepMs > 60_000) {
      this.lastSweepMs = nowMs;
      for (const [k, s] of this.sensors)
        if (nowMs - s.lastRecordMs > SENSOR_EXPIRY_MS) this.sensors.delete(k);
    }
    const k = `${user}\u0000${clientId}`;
    let s = this.sensors.get(k);
    if (!s) {
      s = new SampledRate(this.window);
      this.sensors.set(k, s);
    }
    return s;
  }
}
