import { API_CODEC_LIST } from '@fjord/protocol';

/** Per-topic traffic, kept as plain numbers: the hot path only adds. */
export interface TopicTraffic {
  messagesIn: number;
  bytesIn: number;
  bytesOut: number;
  failedProduce: number;
  failedFetch: number;
  replicationBytesIn: number;
  replicationBytesOut: number;
}

/** Request-time histogram buckets in milliseconds (Kafka's TotalTimeMs is in ms). */
export const REQUEST_TIME_BUCKETS_MS: readonly number[] = [
  0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000,
];

/** Count, time histogram and throttle of one API. */
export interface RequestStats {
  readonly name: string;
  count: number;
  sumMs: number;
  /** Non-cumulative counts per bucket; the last slot is +Inf. */
  readonly buckets: Float64Array;
  throttleMs: number;
}

const newTopic = (): TopicTraffic => ({
  messagesIn: 0,
  bytesIn: 0,
  bytesOut: 0,
  failedProduce: 0,
  failedFetch: 0,
  replicationBytesIn: 0,
  replicationBytesOut: 0,
});

/**
 * What produce, fetch and the request dispatcher count while serving. Nothing here allocates per
 * request once a topic has been seen: one Map lookup and a few additions. prom-client reads these
 * at scrape time (see BrokerMetrics), so its label hashing never runs on the hot path.
 */
export class TrafficMetrics {
  /** Broker-wide totals: the series without a topic label. */
  readonly total: TopicTraffic = newTopic();
  readonly topics = new Map<string, TopicTraffic>();
  /** Indexed by API key. */
  readonly requests: (RequestStats | undefined)[] = [];

  /**
   * Topic names come from clients, so a stream of made-up names must not grow this map without
   * bound: past `maxTopics` new names count in the totals only. Scrapes prune deleted topics.
   */
  constructor(private readonly maxTopics = 10_000) {}

  private topic(name: string): TopicTraffic | undefined {
    let t = this.topics.get(name);
    if (t === undefined && this.topics.size < this.maxTopics) {
      t = newTopic();
      this.topics.set(name, t);
    }
    return t;
  }

  /** A partition's batches were appended as leader: records counted from the batch headers. */
  produced(topic: string, records: number, bytes: number): void {
    const t = this.topic(topic);
    this.total.messagesIn += records;
    this.total.bytesIn += bytes;
    if (t) {
      t.messagesIn += records;
      t.bytesIn += bytes;
    }
  }

  produceFailed(topic: string): void {
    this.total.failedProduce++;
    const t = this.topic(topic);
    if (t) t.failedProduce++;
  }

  /** Bytes sent in a fetch response for one partition; followers' are replication bytes. */
  fetched(topic: string, bytes: number, follower: boolean): void {
    const t = this.topic(topic);
    if (follower) {
      this.total.replicationBytesOut += bytes;
      if (t) t.replicationBytesOut += bytes;
    } else {
      this.total.bytesOut += bytes;
      if (t) t.bytesOut += bytes;
    }
  }

  fetchFailed(topic: string): void {
    this.total.failedFetch++;
    const t = this.topic(topic);
    if (t) t.failedFetch++;
  }

  /** This broker, as a follower, appended bytes it fetched from the leader. */
  replicated(topic: string, bytes: number): void {
    this.total.replicationBytesIn += bytes;
    const t = this.topic(topic);
    if (t) t.replicationBytesIn += bytes;
  }

  /** A request was answered after `ms` (from receipt to response ready), throttled `throttleMs`. */
  request(apiKey: number, ms: number, throttleMs = 0): void {
    let r = this.requests[apiKey];
    if (r === undefined) {
      const name = API_CODEC_LIST[apiKey]?.name;
      if (name === undefined) return;
      r = {
        name,
        count: 0,
        sumMs: 0,
        buckets: new Float64Array(REQUEST_TIME_BUCKETS_MS.length + 1),
        throttleMs: 0,
      };
      this.requests[apiKey] = r;
    }
    r.count++;
    r.sumMs += ms;
    r.throttleMs += throttleMs;
    let i = 0;
    while (i < REQUEST_TIME_BUCKETS_MS.length && ms > REQUEST_TIME_BUCKETS_MS[i]!) i++;
    r.buckets[i]!++;
  }

  /**
   * Starts a topic's counters at zero before its first message, so the first scrape sees 0 and
   * Prometheus's rate() sees the first traffic as an increase (a series born at its final value
   * shows no rate).
   */
  track(topic: string): void {
    this.topic(topic);
  }

  /** Forgets topics that no longer exist (keeps their bytes in the totals). */
  prune(exists: (topic: string) => boolean): void {
    for (const name of this.topics.keys()) if (!exists(name)) this.topics.delete(name);
  }
}
