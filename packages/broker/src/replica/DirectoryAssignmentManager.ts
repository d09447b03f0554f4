import { ApiKey, ErrorCode } from '@fjord/protocol';
import type { Logger } from 'pino';
import type { ControllerChannel } from '../quorum/ControllerChannel.js';

interface Assignment {
  readonly topicId: string;
  readonly partition: number;
  readonly directory: string;
}

const RETRY_MS = 1000;

/**
 * Tells the controller which log dir holds each of this broker's replicas (KIP-858's
 * AssignReplicasToDirs), so that a failed dir takes exactly its replicas out of leadership and
 * the ISRs. Assignments are batched; a failed send is retried.
 */
export class DirectoryAssignmentManager {
  private readonly queued = new Map<string, Assignment>();
  /** What was last asked for each replica, so the same assignment is not sent again. */
  private readonly requested = new Map<string, string>();
  private sending = false;

  constructor(
    private readonly channel: ControllerChannel,
    private readonly brokerId: number,
    private readonly brokerEpoch: () => number,
    private readonly log: Logger,
  ) {}

  /** The replica is in `directory` while the image says `known`: assign it unless already asked. */
  ensure(topicId: string, partition: number, directory: string, known: string): void {
    const key = `${topicId}:${partition}`;
    if (known === directory) {
      this.requested.delete(key);
      return;
    }
    if (this.requested.get(key) === directory) return;
    this.requested.set(key, directory);
    this.queued.set(key, { topicId, partition, directory });
    void this.flush();
  }

  private async flush(): Promise<void> {
    if (this.sending || this.queued.size === 0) return;
    if (this.brokerEpoch() < 0) {
      // Not registered yet: the controller would refuse us; look again shortly.
      setTimeout(() => void this.flush(), 100).unref();
      return;
    }
    this.sending = true;
    const batch = [...this.queued.values()];
    this.queued.clear();
    let retry = false;
    try {
      const byDir = new Map<string, Map<string, number[]>>();
      for (const a of batch) {
        const topics = byDir.get(a.directory) ?? new Map<string, number[]>();
        topics.set(a.topicId, [...(topics.get(a.topicId) ?? []), a.partition]);
        byDir.set(a.directory, topics);
      }
      const r = await this.channel.send(ApiKey.AssignReplicasToDirs, 0, {
        brokerId: this.brokerId,
        brokerEpoch: BigInt(this.brokerEpoch()),
        directories: [...byDir].map(([id, topics]) => ({
          id,
          topics: [...topics].map(([topicId, partitions]) => ({
            topicId,
            partitions: partitions.map((partitionIndex) => ({ partitionIndex })),
          })),
        })),
      });
      retry = r.errorCode !== ErrorCode.NONE;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'replica directory assignment not sent');
      retry = true;
    } finally {
      this.sending = false;
    }
    if (retry) {
      for (const a of batch) this.requested.delete(`${a.topicId}:${a.partition}`);
      setTimeout(() => {
        for (const a of batch) this.ensure(a.topicId, a.partition, a.directory, '');
      }, RETRY_MS).unref();
    }
    void this.flush();
  }
}
