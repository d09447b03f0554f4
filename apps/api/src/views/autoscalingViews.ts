import type { AutoscalingPolicy, AutoscalingRecommendation } from '@fjord/contracts';
import type { AutoscalingPolicy as AutoscalingPolicyRow } from '@fjord/db';
import type { AutoscalePlan, AutoscalePolicy } from '@fjord/provisioning';

export function autoscalingPolicyView(row: AutoscalingPolicyRow): AutoscalingPolicy {
  return {
    instanceId: row.instanceId,
    enabled: row.enabled,
    minBrokers: row.minBrokers,
    maxBrokers: row.maxBrokers,
    minBandwidthMBps: row.minBandwidthMBps,
    maxBandwidthMBps: row.maxBandwidthMBps,
    targetBandwidthPercent: row.targetBandwidthPercent,
    targetDiskPercent: row.targetDiskPercent,
    holdSeconds: row.holdSeconds,
    cooldownSeconds: row.cooldownSeconds,
    lastRefusal:
      row.lastRefusal && row.lastRefusedAt
        ? { reason: row.lastRefusal, at: row.lastRefusedAt.toISOString() }
        : null,
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const rounded = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);

export function recommendationView(
  instanceId: string,
  policy: AutoscalePolicy,
  bandwidthSpecMBps: number,
  plan: AutoscalePlan,
  evaluatedAt: Date,
): AutoscalingRecommendation {
  const { bandwidth, disk } = plan.observed;
  return {
    instanceId,
    evaluatedAt: evaluatedAt.toISOString(),
    observed: {
      bandwidth: {
        mbps: rounded(bandwidth.mbps),
        specMBps: bandwidthSpecMBps,
        percent: rounded(bandwidth.percent),
        targetPercent: policy.targetBandwidthPercent,
        heldSeconds: Math.round(bandwidth.heldSeconds),
      },
      disk: {
        usedBytes: disk.usedBytes === null ? null : Math.round(disk.usedBytes),
        specBytes: disk.specBytes,
        percent: rounded(disk.percent),
        targetPercent: policy.targetDiskPercent,
        heldSeconds: Math.round(disk.heldSeconds),
      },
    },
    decision: { action: plan.action, brokerCount: plan.brokerCount, bandwidthMBps: plan.bandwidthMBps },
    reason: plan.reason,
  };
}
