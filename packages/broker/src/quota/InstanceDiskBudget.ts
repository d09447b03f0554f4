import {
  dynamicInstanceValue,
  INSTANCE_DISK_BYTES_KEY,
  INSTANCE_DISK_HIGH_WATER_RATIO_KEY,
  type MetadataImage,
} from '@fjord/metadata';
import type { Logger } from 'pino';
import type { DiskBudgetSettings } from '../config/BrokerConfig.js';
import type { LogManager } from '../storage/LogManager.js';

/** How long produce trusts a sum of the logs' sizes (its own appends are added meanwhile). */
const USAGE_TTL_MS = 100;

/** One broker's disk budget in bytes. */
export interface DiskLimits {
  /** At this much partition data produce is refused. */
  readonly budgetBytes: number;
  /** At this much the oldest segments are deleted until usage is below it again. */
  readonly highWaterBytes: number;
}

/**
 * The limits the image gives this broker: dynamic broker configs (per broker, then cluster-wide)
 * over the static ones, so a spec change applies without a restart. Undefined: no budget.
 */
export function diskLimitsOf(
  image: MetadataImage,
  brokerId: number,
  statics: Pick<DiskBudgetSettings, 'budgetBytes' | 'highWaterRatio'>,
): DiskLimits | undefined {
  const budget = dynamicInstanceValue(image, brokerId, INSTANCE_DISK_BYTES_KEY) ?? statics.budgetBytes;
  if (!(budget > 0)) return undefined;
  const ratio =
    dynamicInstanceValue(image, brokerId, INSTANCE_DISK_HIGH_WATER_RATIO_KEY) ?? statics.highWaterRatio;
  return { budgetBytes: budget, highWaterBytes: Math.floor(budget * ratio) };
}

/**
 * The instance's disk per broker (`fjord.instance.disk.bytes`), held on the partition data this
 * broker keeps: past the high-water mark the oldest closed segments go, across all partitions,
 * through retention's deletion path; at the whole budget produce is refused until space is freed.
 * Topics in `protectedTopics` (the compacted internal ones: committed offsets, transaction state)
 * count but are never trimmed. Counters are for the metrics.
 */
export class InstanceDiskBudget {
  /** Checks that found usage at or above the high-water mark. */
  highWaterHits = 0;
  deletedSegments = 0;
  deletedBytes = 0;
  /** Produce partitions refused at the hard limit. */
  refusedProduce = 0;
  private above = false;
  private soon: NodeJS.Immediate | undefined;
  /** Usage as produce sees it: summed at most every USAGE_TTL_MS, plus what produce appended since. */
  private seenUsed = 0;
  private seenAt = Number.NEGATIVE_INFINITY;
  private enforcedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly logs: LogManager,
    private readonly image: () => MetadataImage,
    private readonly brokerId: number,
    private readonly statics: DiskBudgetSettings,
    private readonly protectedTopics: ReadonlySet<string>,
    private readonly log: Logger,
  ) {}

  limits(): DiskLimits | undefined {
    return diskLimitsOf(this.image(), this.brokerId, this.statics);
  }

  /** The partition data the broker holds now (every log's size, summed). */
  usedBytes(): number {
    return this.see(this.logs.usedBytes(), this.seenAt);
  }

  /** Produce appended `bytes` as leader (counted at once, before the next sum). */
  appended(bytes: number): void {
    this.seenUsed += bytes;
  }

  /**
   * Why produce must be refused now (the budget is used up), or undefined; a produce request asks
   * once. Summing every log's size on each request would cost a broker with thousands of
   * partitions, so the sum is refreshed at most every USAGE_TTL_MS and produce's own appends are
   * added in between (follower appends wait for the next sum). Past the high-water mark it also
   * brings the next check forward (at most one per USAGE_TTL_MS), so a fast producer does not wait
   * a whole interval for space.
   */
  fullReason(now: number): string | undefined {
    const limits = this.limits();
    if (!limits) return undefined;
    const used = now - this.seenAt >= USAGE_TTL_MS ? this.see(this.logs.usedBytes(), now) : this.seenUsed;
    if (used >= limits.highWaterBytes && now - this.enforcedAt >= USAGE_TTL_MS) this.enforceSoon();
    if (used < limits.budgetBytes) return undefined;
    return `broker ${this.brokerId} holds ${used} bytes, its disk budget is ${limits.budgetBytes}; retry once retention frees space`;
  }

  private see(used: number, at: number): number {
    this.seenUsed = used;
    this.seenAt = at;
    return used;
  }

  private enforceSoon(): void {
    this.soon ??= setImmediate(() => {
      this.soon = undefined;
      try {
        this.enforce();
      } catch (err) {
        this.log.error({ err }, 'disk budget check failed');
      }
    });
  }

  /** Stops a check brought forward (the broker is stopping). */
  close(): void {
    if (this.soon) clearImmediate(this.soon);
    this.soon = undefined;
  }

  /** One check (on the scheduler): trims below the high-water mark when usage reached it. */
  enforce(): void {
    this.enforcedAt = Date.now();
    const limits = this.limits();
    if (!limits) {
      this.above = false;
      return;
    }
    const r = this.logs.trimBelow(limits.highWaterBytes, (topic) => this.protectedTopics.has(topic));
    // Freed space lets produce in at once, not a TTL later.
    this.see(r.usedBytes, this.seenAt);
    const before = r.usedBytes + r.freedBytes;
    if (before < limits.highWaterBytes) {
      if (this.above) this.log.info({ usedBytes: before, ...limits }, 'disk usage below the high-water mark');
      this.above = false;
      return;
    }
    this.highWaterHits++;
    this.deletedSegments += r.segments;
    this.deletedBytes += r.freedBytes;
    const still = r.usedBytes >= limits.highWaterBytes;
    if (r.segments > 0 || (still && !this.above))
      this.log.warn(
        {
          usedBytes: before,
          deletedSegments: r.segments,
          freedBytes: r.freedBytes,
          leftBytes: r.usedBytes,
          ...limits,
        },
        still
          ? 'disk usage at the high-water mark and too little to delete: produce stops at the budget'
          : 'disk usage reached the high-water mark: deleted the oldest segments',
      );
    this.above = still;
  }
}
