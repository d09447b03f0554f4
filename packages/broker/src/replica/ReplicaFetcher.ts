import {
  ApiKey,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH,
  ErrorCode,
  type FetchRequestFetchTopicInput,
  type FetchResponse,
  LOG_OVERHEAD,
} from '@fjord/protocol';
import type { Logger } from 'pino';
import type { BrokerClient } from '../network/BrokerClient.js';
import type { Partition } from './Partition.js';

/** Fetch v13: topic ids, lastFetchedEpoch (diverging-epoch truncation), replica id in the body. */
const FETCH_VERSION = 13;
const LIST_OFFSETS_VERSION = 7;

export interface ReplicaFetcherSettings {
  readonly brokerId: number;
  /** replica.fetch.wait.max.ms */
  readonly maxWaitMs: number;
  /** replica.fetch.min.bytes */
  readonly minBytes: number;
  /** replica.fetch.response.max.bytes */
  readonly maxBytes: number;
  /** replica.fetch.max.bytes */
  readonly partitionMaxBytes: number;
  /** replica.fetch.backoff.ms: after an error, before that partition (or the leader) is tried again. */
  readonly backoffMs: number;
  readonly requestTimeoutMs: number;
}

/** What the replica manager decides per partition: the follower side of replication throttles. */
export interface FetcherCallbacks {
  /** Leave this partition out of the next fetch (a throttled replica over its rate). */
  holdsBack(p: Partition, now: number): boolean;
  /** Bytes appended from a fetch (metrics and the follower throttle count them). */
  replicated(p: Partition, bytes: number, now: number): void;
}

/**
 * Copies the partitions one leader leads into this broker's logs, as Kafka's follower fetcher
 * thread does: one long-polling Fetch at a time for all of them, appending what comes back,
 * adopting the leader's high watermark and log start, and truncating where the leader says the
 * logs diverged (a diverging epoch) or where this log has what the leader no longer has.
 */
export class ReplicaFetcher {
  private readonly partitions = new Map<string, Partition>();
  /** Partitions paused after an error, until this time. */
  private readonly delayedUntil = new Map<string, number>();
  private running = true;
  private wake?: () => void;
  private readonly done: Promise<void>;

  constructor(
    readonly leaderId: number,
    private readonly client: BrokerClient,
    private readonly settings: ReplicaFetcherSettings,
    private readonly log: Logger,
    private readonly callbacks?: FetcherCallbacks,
  ) {
    this.done = this.run();
  }

  get size(): number {
    return this.partitions.size;
  }

  add(p: Partition): void {
    this.partitions.set(keyOf(p), p);
    this.delayedUntil.delete(keyOf(p));
    this.wake?.();
  }

  remove(p: Partition): void {
    this.partitions.delete(keyOf(p));
    this.delayedUntil.delete(keyOf(p));
  }

  has(p: Partition): boolean {
    return this.partitions.get(keyOf(p)) === p;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.client.close();
    await this.done;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const now = Date.now();
      const ready = [...this.partitions.values()].filter(
        (p) =>
          !p.offline && (this.delayedUntil.get(keyOf(p)) ?? 0) <= now && !this.callbacks?.holdsBack(p, now),
      );
      if (ready.length === 0) {
        const nextDelay = Math.min(
          ...[...this.delayedUntil.values()].map((t) => t - now),
          this.settings.backoffMs,
        );
        await this.sleep(this.partitions.size === 0 ? 60_000 : Math.max(nextDelay, 10));
        continue;
      }
      let response: FetchResponse;
      try {
        response = await this.client.send(
          ApiKey.Fetch,
          FETCH_VERSION,
          this.request(ready),
          this.settings.maxWaitMs + this.settings.requestTimeoutMs,
        );
      } catch (err) {
        if (!this.running) return;
        this.log.debug({ err, leader: this.leaderId }, 'replica fetch failed');
        await this.sleep(this.settings.backoffMs);
        continue;
      }
      if (response.errorCode !== ErrorCode.NONE) {
        await this.sleep(this.settings.backoffMs);
        continue;
      }
      await this.handle(response, ready);
    }
  }

  private request(partitions: readonly Partition[]) {
    const topics = new Map<string, FetchRequestFetchTopicInput>();
    for (const p of partitions) {
      let t = topics.get(p.topicId);
      if (!t) {
        t = { topic: p.topic, topicId: p.topicId, partitions: [] };
        topics.set(p.topicId, t);
      }
      t.partitions.push({
        partition: p.partition,
        currentLeaderEpoch: p.leaderEpoch,
        fetchOffset: BigInt(p.log.logEndOffset),
        lastFetchedEpoch: p.log.leaderEpochs.latestEpoch,
        logStartOffset: BigInt(p.log.logStartOffset),
        partitionMaxBytes: this.settings.partitionMaxBytes,
      });
    }
    return {
      replicaId: this.settings.brokerId,
      maxWaitMs: this.settings.maxWaitMs,
      minBytes: this.settings.minBytes,
      maxBytes: this.settings.maxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...topics.values()],
      forgottenTopicsData: [],
      rackId: '',
    };
  }

  private async handle(response: FetchResponse, requested: readonly Partition[]): Promise<void> {
    const byKey = new Map(requested.map((p) => [`${p.topicId}:${p.partition}`, p]));
    const now = Date.now();
    for (const t of response.responses) {
      for (const r of t.partitions) {
        const p = byKey.get(`${t.topicId}:${r.partitionIndex}`);
        // Leadership may have moved while the fetch was out: its answer is moot then.
        if (!p || !this.has(p) || p.isLeader) continue;
        try {
          if (r.errorCode === ErrorCode.NONE) {
            if (r.divergingEpoch.epoch >= 0)
              this.truncateToDivergence(p, r.divergingEpoch.epoch, Number(r.divergingEpoch.endOffset));
            else if (r.records && r.records.length > 0) {
              const data = wholeBatches(r.records);
              p.appendAsFollower(data, Number(r.highWatermark), Number(r.logStartOffset), now);
              this.callbacks?.replicated(p, data.length, now);
            } else p.appendAsFollower(EMPTY, Number(r.highWatermark), Number(r.logStartOffset), now);
          } else if (r.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
            await this.resetOutOfRange(p);
          } else {
            // Not leader, fenced or unknown epoch, storage error: new metadata will sort it out.
            this.delay(p, now);
          }
        } catch (err) {
          this.log.warn({ err, topic: p.topic, partition: p.partition }, 'replica fetch handling failed');
          this.delay(p, now);
        }
      }
    }
  }

  /** Kafka's truncation on a diverging epoch (KIP-595 style fetch-based truncation). */
  private truncateToDivergence(p: Partition, leaderEpoch: number, leaderEndOffset: number): void {
    const local = p.log.leaderEpochs.endOffsetFor(leaderEpoch, p.log.logEndOffset);
    const to =
      local.endOffset < 0
        ? Math.min(leaderEndOffset, p.log.logEndOffset)
        : local.epoch === leaderEpoch
          ? Math.min(leaderEndOffset, local.endOffset)
          : Math.min(local.endOffset, p.log.logEndOffset);
    this.log.info(
      { topic: p.topic, partition: p.partition, from: p.log.logEndOffset, to, leaderEpoch, leaderEndOffset },
      'truncating diverged replica',
    );
    p.truncateTo(to);
  }

  /** This log is past the leader's end (truncate back) or before its start (start over there). */
  private async resetOutOfRange(p: Partition): Promise<void> {
    const ask = async (timestamp: bigint) => {
      const res = await this.client.send(ApiKey.ListOffsets, LIST_OFFSETS_VERSION, {
        replicaId: this.settings.brokerId,
        isolationLevel: 0,
        timeoutMs: this.settings.requestTimeoutMs,
        topics: [
          {
            name: p.topic,
            partitions: [{ partitionIndex: p.partition, currentLeaderEpoch: p.leaderEpoch, timestamp }],
          },
        ],
      });
      const r = res.topics[0]?.partitions[0];
      if (!r || r.errorCode !== ErrorCode.NONE) throw new Error(`ListOffsets failed: ${r?.errorCode}`);
      return Number(r.offset);
    };
    const leaderEnd = await ask(-1n);
    if (p.log.logEndOffset > leaderEnd) {
      p.truncateTo(leaderEnd);
      return;
    }
    const leaderStart = await ask(-2n);
    if (p.log.logEndOffset < leaderStart) p.truncateFullyAndStartAt(leaderStart);
  }

  private delay(p: Partition, now: number): void {
    this.delayedUntil.set(keyOf(p), now + this.settings.backoffMs);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }
}

const EMPTY = Buffer.alloc(0);

function keyOf(p: Partition): string {
  return `${p.topic}\u0000${p.partition}`;
}

/** The whole batches at the start of `data` (a leader may end a response mid-batch). */
function wholeBatches(data: Buffer): Buffer {
  let pos = 0;
  while (data.length - pos >= BATCH_HEADER_SIZE) {
    const size = data.readInt32BE(pos + BATCH_LENGTH) + LOG_OVERHEAD;
    if (pos + size > data.length) break;
    pos += size;
  }
  return pos === data.length ? data : data.subarray(0, pos);
}
