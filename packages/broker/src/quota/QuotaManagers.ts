import { dynamicInstanceValue, INSTANCE_BANDWIDTH_KEY, type MetadataImage } from '@fjord/metadata';
import { ClientQuotaManager } from './ClientQuotaManager.js';
import { quotaUserOf } from './ClientQuotaResolver.js';
import { InstanceBandwidthQuota } from './InstanceBandwidthQuota.js';
import type { RateWindow } from './SampledRate.js';

/** Who is using the broker, for quota purposes. */
export interface QuotaClient {
  readonly principal: string;
  readonly clientId: string;
}

/**
 * The quotas a broker enforces (KIP-13 byte rates, KIP-124 request time, and the instance's
 * bandwidth): handlers record what a request cost and get back the throttle time to answer
 * with and to mute the channel for (KIP-219). Quota values come from the metadata image.
 */
export class QuotaManagers {
  readonly produce: ClientQuotaManager;
  readonly fetch: ClientQuotaManager;
  readonly request: ClientQuotaManager;
  private bandwidth: InstanceBandwidthQuota | undefined;
  /** The image the bandwidth was last resolved from (images are replaced, never changed). */
  private bandwidthImage: MetadataImage | undefined;

  constructor(
    readonly window: RateWindow,
    /** The static `fjord.instance.bandwidth.bytes.per.second` (null: no instance limit). */
    private readonly staticBandwidth: number | null,
    private readonly brokerId: number,
  ) {
    this.produce = new ClientQuotaManager('producer_byte_rate', window);
    this.fetch = new ClientQuotaManager('consumer_byte_rate', window);
    // As ClientRequestQuotaManager: a request-time throttle never exceeds one window.
    this.request = new ClientQuotaManager('request_percentage', window, window.windowMs);
  }

  /**
   * The instance bandwidth quota as the image has it: a dynamic broker config (per broker, then
   * cluster-wide) overrides the static one, so a spec change applies without a restart; 0 lifts
   * the limit. Resolved once per image; the rates measured so far are kept across a change.
   */
  instance(image: MetadataImage): InstanceBandwidthQuota | undefined {
    if (image === this.bandwidthImage) return this.bandwidth;
    this.bandwidthImage = image;
    const rate = dynamicInstanceValue(image, this.brokerId, INSTANCE_BANDWIDTH_KEY) ?? this.staticBandwidth;
    if (!rate) this.bandwidth = undefined;
    else if (this.bandwidth) this.bandwidth.bytesPerSecond = rate;
    else this.bandwidth = new InstanceBandwidthQuota(rate, this.window);
    return this.bandwidth;
  }

  /** Produce request bytes (the whole request, as Kafka counts them). */
  recordProduce(image: MetadataImage, c: QuotaClient, bytes: number, nowMs: number): number {
    const user = quotaUserOf(c.principal);
    const client = this.produce.record(image.clientQuotas, user, c.clientId, bytes, nowMs);
    const instance = this.instance(image)?.record('in', bytes, image.liveBrokers().length, nowMs) ?? 0;
    return Math.max(client, instance);
  }

  /**
   * Fetch response bytes. When the fetch would be throttled its bytes are taken back: the
   * client gets an empty response with the throttle time instead (KafkaApis.handleFetchRequest).
   */
  recordFetch(image: MetadataImage, c: QuotaClient, bytes: number, nowMs: number): number {
    const user = quotaUserOf(c.principal);
    const client = this.fetch.record(image.clientQuotas, user, c.clientId, bytes, nowMs);
    const instance = this.instance(image)?.record('out', bytes, image.liveBrokers().length, nowMs) ?? 0;
    const throttle = Math.max(client, instance);
    if (throttle > 0) {
      this.fetch.unrecord(image.clientQuotas, user, c.clientId, bytes, nowMs);
      this.instance(image)?.unrecord('out', bytes, nowMs);
    }
    return throttle;
  }

  /** The most one fetch may return without certain throttling. */
  maxFetchBytes(image: MetadataImage, c: QuotaClient): number {
    const client = this.fetch.maxValueInWindow(image.clientQuotas, quotaUserOf(c.principal), c.clientId);
    const instance =
      this.instance(image)?.maxBytesInWindow(image.liveBrokers().length) ?? Number.POSITIVE_INFINITY;
    return Math.min(client, instance);
  }

  /** Time spent handling a request, as a share of one thread (request_percentage). */
  recordRequestTime(image: MetadataImage, c: QuotaClient, handlerMs: number, nowMs: number): number {
    // percent-seconds per second: 1 ms of work is 0.1 % of one second.
    return this.request.record(
      image.clientQuotas,
      quotaUserOf(c.principal),
      c.clientId,
      handlerMs / 10,
      nowMs,
    );
  }
}
