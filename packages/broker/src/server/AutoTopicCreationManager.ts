import { ErrorCode, RETRIABLE_ERRORS } from '@fjord/protocol';
import type { Logger } from 'pino';

export interface AutoTopicCreationDeps {
  /** Sends ONE CreateTopics naming `topics` to the active controller; each topic's error code. */
  create(topics: readonly string[]): Promise<ReadonlyMap<string, number>>;
  /** Resolves once this broker's own image has `topics` (bounded: it gives up after a while). */
  awaitVisible(topics: readonly string[]): Promise<void>;
  readonly log: Logger;
}

/** Failed creations remembered for the next Metadata naming them; beyond this the oldest are forgotten. */
const MAX_REMEMBERED_FAILURES = 10_000;

/**
 * Kafka's AutoTopicCreationManager: topics a Metadata request names that do not exist are created
 * in the background, in one CreateTopics to the controller per request, and the Metadata request
 * is answered at once. A topic already being created (sent by an earlier request and not yet in
 * this broker's image) is not requested again.
 *
 * What a client hears for a topic being created is LEADER_NOT_AVAILABLE, the answer of Kafka's
 * ZooKeeper-mode brokers (the topic exists, it has no leader yet; they also answered it for a topic
 * created but not yet in their cache), which every client retries quietly. (Kafka's KRaft brokers
 * say UNKNOWN_TOPIC_OR_PARTITION instead, which clients also retry, some only for a while.) If the
 * controller refused a creation (e.g. INVALID_REPLICATION_FACTOR while the cluster has too few
 * brokers), the next Metadata naming the topic hears that error, as ZooKeeper-mode Kafka answered
 * its synchronous creation's error, and starts another attempt.
 */
export class AutoTopicCreationManager {
  /** Topics sent to the controller whose creation is not yet visible here (or has failed). */
  private readonly inFlight = new Set<string>();
  /** The last attempt's refusal, per topic, until an attempt succeeds. */
  private readonly failures = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: AutoTopicCreationDeps) {}

  /**
   * Starts creating those of `topics` not already being created; the error code a Metadata
   * response gives each of them now. The names must be valid, authorized and not exist.
   */
  createTopics(topics: Iterable<string>): Map<string, number> {
    const answers = new Map<string, number>();
    const batch: string[] = [];
    for (const topic of topics) {
      if (answers.has(topic)) continue;
      answers.set(topic, this.failures.get(topic) ?? ErrorCode.LEADER_NOT_AVAILABLE);
      if (this.inFlight.has(topic)) continue;
      this.inFlight.add(topic);
      batch.push(topic);
    }
    if (batch.length > 0) this.track(this.createInBackground(batch));
    return answers;
  }

  /** Topics whose creation is under way (for tests and diagnostics). */
  get creating(): ReadonlySet<string> {
    return this.inFlight;
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
      for (const topic of batch) {
        const code = results.get(topic) ?? ErrorCode.UNKNOWN_SERVER_ERROR;
        if (code === ErrorCode.NONE || code === ErrorCode.TOPIC_ALREADY_EXISTS) {
          created.push(topic);
          this.failures.delete(topic);
        } else if (RETRIABLE_ERRORS.has(code)) {
          // The next request tries again; until then the topic is as good as being created.
          this.failures.delete(topic);
        } else {
          this.remember(topic, code);
        }
      }
      const refused = batch.filter((t) => this.failures.has(t));
      if (refused.length > 0)
        log.warn(
          { topics: refused.map((t) => ({ topic: t, errorCode: this.failures.get(t) })) },
          'auto-creation refused by the controller',
        );
      // Not requested again until this broker sees the topics (the client's next Metadata may be here).
      if (created.length > 0) await this.deps.awaitVisible(created);
    } catch (e) {
      // No controller answered in time: the next Metadata naming the topics tries again.
      log.warn({ topics: batch, err: e }, 'auto-creation request failed');
    } finally {
      for (const topic of batch) this.inFlight.delete(topic);
    }
  }

  private remember(topic: string, code: number): void {
    this.failures.delete(topic);
    this.failures.set(topic, code);
    if (this.failures.size > MAX_REMEMBERED_FAILURES) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }
}
