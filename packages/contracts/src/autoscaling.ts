import { z } from 'zod';
import { idSchema } from './ids.js';
import { MAX_BROKERS } from './instances.js';

/** Product limits of an autoscaling policy; the bandwidth range is the instance spec's. */
export const AUTOSCALING_LIMITS = {
  minBandwidthMBps: 10,
  maxBandwidthMBps: 10_000,
  minTargetPercent: 10,
  maxTargetPercent: 95,
  minHoldSeconds: 5,
  minCooldownSeconds: 10,
  maxSeconds: 86_400,
} as const;

const L = AUTOSCALING_LIMITS;
const brokers = z.number().int().min(1).max(MAX_BROKERS);
const bandwidth = z.number().int().min(L.minBandwidthMBps).max(L.maxBandwidthMBps);
const percent = z.number().int().min(L.minTargetPercent).max(L.maxTargetPercent);

/** PUT body: the whole policy (absent optional fields take their defaults). */
export const PutAutoscalingPolicy = z
  .strictObject({
    enabled: z.boolean().default(true),
    minBrokers: brokers,
    maxBrokers: brokers,
    minBandwidthMBps: bandwidth,
    maxBandwidthMBps: bandwidth,
    targetBandwidthPercent: percent
      .default(70)
      .describe('scale out when produce-in or fetch-out stays above this share of the bandwidth spec'),
    targetDiskPercent: percent
      .default(75)
      .describe('scale out (add brokers) when stored data stays above this share of the disk spec'),
    holdSeconds: z
      .number()
      .int()
      .min(L.minHoldSeconds)
      .max(L.maxSeconds)
      .default(300)
      .describe('how long a breach must hold before acting'),
    cooldownSeconds: z
      .number()
      .int()
      .min(L.minCooldownSeconds)
      .max(L.maxSeconds)
      .default(600)
      .describe('quiet time after a resize (or a refused one) before the next'),
  })
  .superRefine((v, ctx) => {
    if (v.minBrokers > v.maxBrokers)
      ctx.addIssue({
        code: 'custom',
        path: ['minBrokers'],
        message: `must not exceed maxBrokers (${v.maxBrokers})`,
      });
    if (v.minBandwidthMBps > v.maxBandwidthMBps)
      ctx.addIssue({
        code: 'custom',
        path: ['minBandwidthMBps'],
        message: `must not exceed maxBandwidthMBps (${v.maxBandwidthMBps})`,
      });
  });
export type PutAutoscalingPolicy = z.infer<typeof PutAutoscalingPolicy>;

export const AutoscalingPolicy = z
  .object({
    instanceId: idSchema('instance'),
    enabled: z.boolean(),
    minBrokers: z.number().int(),
    maxBrokers: z.number().int(),
    minBandwidthMBps: z.number().int(),
    maxBandwidthMBps: z.number().int(),
    targetBandwidthPercent: z.number().int(),
    targetDiskPercent: z.number().int(),
    holdSeconds: z.number().int(),
    cooldownSeconds: z.number().int(),
    lastRefusal: z
      .object({ reason: z.string(), at: z.iso.datetime() })
      .nullable()
      .describe("the autoscaler's last resize the admission checks refused"),
    version: z.number().int().describe('bumped on every change; also the ETag'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'AutoscalingPolicy' });
export type AutoscalingPolicy = z.infer<typeof AutoscalingPolicy>;

export const AutoscalingAction = z.enum(['none', 'scale_out', 'scale_in']);
export type AutoscalingAction = z.infer<typeof AutoscalingAction>;

const ObservedUtilisation = z.object({
  percent: z.number().nullable().describe('latest figure, percent of the spec; null without samples'),
  targetPercent: z.number().int(),
  heldSeconds: z.number().describe('how far back the samples reach (the hold time at most)'),
});

/** What the autoscaler would do now and why (read-only). */
export const AutoscalingRecommendation = z
  .object({
    instanceId: idSchema('instance'),
    evaluatedAt: z.iso.datetime(),
    observed: z.object({
      bandwidth: ObservedUtilisation.extend({
        mbps: z.number().nullable().describe('the higher of produce-in and fetch-out, MB/s'),
        specMBps: z.number().int(),
      }),
      disk: ObservedUtilisation.extend({
        usedBytes: z.number().nullable().describe('every replica on every broker'),
        specBytes: z.number().describe('brokers × disk per broker'),
      }),
    }),
    decision: z.object({
      action: AutoscalingAction,
      brokerCount: z.number().int().describe('the broker count after the action'),
      bandwidthMBps: z.number().int().describe('the bandwidth spec after the action'),
    }),
    reason: z.string(),
  })
  .meta({ id: 'AutoscalingRecommendation' });
export type AutoscalingRecommendation = z.infer<typeof AutoscalingRecommendation>;
