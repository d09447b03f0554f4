import { ErrorCode, RETRIABLE_ERRORS } from '@fjord/protocol';
import type { Logger } from 'pino';

export interface AutoTopicCreationDeps {
  /** Sends ONE CreateTopics naming `topics` to the active controller; each topic's error code. */
  create(topics: readonly string[]): Promise<ReadonlyMap<string, number>>;
  /** Resolves once this broker's own image has `topics` (bounded: it gives up after a while). */
  awaitVisible(topics: readonly string[]): Promise<void>;
  readonly log: Logger;
}

/** Refused creations remembered for the next Metadata naming them; beyond this the oldest are forgotten. */
const MAX_REMEMBERED_REFUSALS = 10_000;

/**
 * Kafka's AutoTopicCreationManager: topics a Metadata request names that do not exist are created
 * in the background, in one CreateTopics to the controller per request, and the Metadata request
 * is answered at once. A topic already being created (sent by an earlier request and not yet in
 * this broker's image) is not requested again.
 *
 * What a client hears for a topic being created is LEADER_NOT_AVAILABLE, the answer of Kafka's
 * ZooKeeper-mode brokers (the topic exists, it has no leader yet; they also answered it for a topic
 * created but not yet in their cache), which every client retries quietly. If the controller
 * refused the last attempt (INVALID_REPLICATION_FACTOR while a broker is fenced, the partition
 * limit), the next Metadata naming the topic hears UNKNOWN_TOPIC_OR_PARTITION, the answer of Kafka's
 * KRaft brokers, and starts another attempt: clients retry it for a while (librdkafka for
 * `topic.metadata.propagation.max.ms`) and then report the topic unknown, so a passing refusal
 * (a broker fenced for seconds on a loaded machine) heals and a lasting one ends, where the
 * refusal's own code would end a librdkafka producer's messages at once.
 */
export class AutoTopicCreationManager {
  /** Topics sent to the controller whose creation is not yet visible here, and that creation. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Topics whose last attempt the controller refused, until an attempt succeeds. */
  private readonly refused = new Set<string>();
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: AutoTopicCreationDeps) {}

  /**
   * Starts creating those of `topics` not already being created; the error code a Metadata
   * response gives each of them now, and when every creation they wait on has finished (created
   * and visible here, or given up). The names must be valid, authorized and not exist.
   */
  createTopics(topics: Iterable<string>): { answers: Map<string, number>; settled: Promise<void> } {
    const answers = new Map<string, number>();
    const batch: string[] = [];
    const waits = new Set<Promise<void>>();
    for (const topic of topics) {
      if (answers.has(topic)) continue;
      answers.set(
        topic,
        this.refused.has(topic) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.LEADER_NOT_AVAILABLE,
      );
      const underWay = this.inFlight.get(topic);
      if (underWay) waits.add(underWay);
      else batch.push(topic);
    }
    if (batch.length > 0) {
      const created = this.createInBackground(batch);
      for (const topic of batch) this.inFlight.set(topic, created);
      this.track(created);
      waits.add(created);
    }
    return { answers, settled: Promise.all(waits).then(() => undefined) };
  }

  /** Topics whose creation is under way (for tests and diagnostics). */
  get creating(): ReadonlySet<string> {
    return new Set(this.inFlight.keys());
  }

  /** Settles once every creation started so far has finished (or given up). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async createInBackground(batch: readonly string[]): Promise<void> {
    const { log } = this.deps;
    log.info({ topics: batch }, 'sent auto-creation request to the active controller');
    const created: string[] = [];
    try {
      const results = await this.deps.create(batch);
      const refusals: { topic: string; errorCode: number }[] = [];
      for (const topic of batch) {
        const code = results.get(topic) ?? ErrorCode.UNKNOWN_SERVER_ERROR;
        if (code === ErrorCode.NONE || code === ErrorCode.TOPIC_ALREADY_EXISTS) {
          created.push(topic);
          this.refused.delete(topic);
        } else if (RETRIABLE_ERRORS.has(code)) {
          // The next request tries again; until then the topic is as good as being created.
          this.refused.delete(topic);
        } else {
          this.remember(topic);
          refusals.push({ topic, errorCode: code });
        }
      }
      if (refusals.length > 0) log.warn({ topics: refusals }, 'auto-creation refused by the controller');
      // Not requested again until this broker sees the topics (the client's next Metadata may be here).
      if (created.length > 0) await this.deps.awaitVisible(created);
    } catch (e) {
      // No controller answered in time: the next Metadata naming the topics tries again.
      log.warn({ topics: batch, err: e }, 'auto-creation request failed');
    } finally {
      for (const topic of batch) this.inFlight.delete(topic);
    }
  }

  private remember(topic: string): void {
    this.refused.delete(topic);
    this.refused.add(topic);
    if (this.refused.size > MAX_REMEMBERED_REFUSALS) {
      const oldest = this.refused.values().next().value;
      if (oldest !== undefined) this.refused.delete(oldest);
    }
  }
}
