import type { AutoscalingPolicy, PrismaClient } from '@fjord/db';
import { metricQuery, type PrometheusClient, type RangeSeries } from '@fjord/monitoring';
import type { AutoscaleInput, Sample } from './autoscalePlanner.js';
import type { InstanceWithBrokers } from './resizeAdmission.js';

/** Samples of one range query's single series (the catalogue's instance metrics are one series). */
function samplesOf(series: readonly RangeSeries[], scale = 1): Sample[] {
  return (series[0]?.values ?? [])
    .map(([at, v]) => ({ at, value: Number(v) * scale }))
    .filter((s) => Number.isFinite(s.value));
}

/** The higher of two signals at each instant both have. */
export function higherOf(a: readonly Sample[], b: readonly Sample[]): Sample[] {
  const other = new Map(b.map((s) => [s.at, s.value]));
  return a
    .filter((s) => other.has(s.at))
    .map((s) => ({ at: s.at, value: Math.max(s.value, other.get(s.at)!) }));
}

/**
 * Gathers what the planner decides from: utilisation over the hold time from Prometheus (through
 * the metric catalogue's PromQL), the instance's operations and the policy's last refusal. The REST
 * API's recommendation and the worker's autoscaler read the same.
 */
export class AutoscaleObservation {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly prometheus: PrometheusClient | undefined,
    /** How often Prometheus scrapes; rates look back over several scrapes. */
    private readonly scrapeIntervalSeconds: number,
  ) {}

  async inputFor(
    ins: InstanceWithBrokers,
    policy: AutoscalingPolicy,
    nowSeconds: number,
  ): Promise<AutoscaleInput> {
    const [busy, lastResize, signals] = await Promise.all([
      this.prisma.operation.findFirst({
        where: { instanceId: ins.id, status: { in: ['PENDING', 'RUNNING'] } },
        orderBy: { createdAt: 'asc' },
        select: { id: true, kind: true },
      }),
      this.prisma.operation.findFirst({
        where: { instanceId: ins.id, kind: 'instance.resize', status: { in: ['SUCCEEDED', 'FAILED'] } },
        orderBy: { updatedAt: 'desc' },
        select: { updatedAt: true },
      }),
      this.signals(ins.id, policy.holdSeconds, nowSeconds),
    ]);
    return {
      nowSeconds,
      policy,
      instance: ins,
      busy: busy ?? undefined,
      lastResizeEndedAt: lastResize ? lastResize.updatedAt.getTime() / 1000 : undefined,
      lastRefusal:
        policy.lastRefusal && policy.lastRefusedAt
          ? { reason: policy.lastRefusal, at: policy.lastRefusedAt.getTime() / 1000 }
          : undefined,
      signals,
    };
  }

  private async signals(
    instanceId: string,
    holdSeconds: number,
    now: number,
  ): Promise<AutoscaleInput['signals']> {
    if (!this.prometheus) return { unavailable: 'this deployment has no Prometheus' };
    const step = Math.max(this.scrapeIntervalSeconds, Math.ceil(holdSeconds / 30));
    const rateWindow = Math.max(step, 4 * this.scrapeIntervalSeconds);
    const range = (metric: Parameters<typeof metricQuery>[0]) =>
      this.prometheus!.queryRange(
        metricQuery(metric, { instanceId }, rateWindow).expr,
        now - holdSeconds,
        now,
        step,
      );
    try {
      const [bytesIn, bytesOut, disk] = await Promise.all([
        range('instance.bytes_in'),
        range('instance.bytes_out'),
        range('instance.disk_used_bytes'),
      ]);
      // The spec's MB are 10^6 bytes (brokers enforce bandwidthMBps × 1 000 000 bytes/s).
      const inMBps = samplesOf(bytesIn, 1e-6);
      const outMBps = samplesOf(bytesOut, 1e-6);
      return {
        bandwidthMBps: outMBps.length ? higherOf(inMBps, outMBps) : inMBps,
        diskUsedBytes: samplesOf(disk),
        stepSeconds: step,
      };
    } catch (err) {
      return { unavailable: (err as Error).message };
    }
  }
}
