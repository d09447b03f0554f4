import { ApiKey, ErrorCode } from '@fjord/protocol';
import type { Logger } from 'pino';
import type { ControllerChannel } from '../quorum/ControllerChannel.js';
import type { Partition } from './Partition.js';

const ALTER_PARTITION_VERSION = 3;

/**
 * Sends the ISR changes partition leaders propose to the controller (Kafka's
 * AlterPartitionManager): queued per partition, batched into one AlterPartition at a time, and
 * each partition told whether its change was committed. A partition has at most one change in
 * flight (Partition keeps it as pending until answered).
 */
export class AlterPartitionManager {
  private readonly queued = new Map<Partition, readonly number[]>();
  private sending = false;

  constructor(
    private readonly channel: ControllerChannel,
    private readonly brokerId: number,
    private readonly brokerEpoch: () => number,
    private readonly requestTimeoutMs: number,
    private readonly log: Logger,
  ) {}

  submit(partition: Partition, isr: readonly number[]): void {
    this.queued.set(partition, isr);
    void this.flush();
  }

  private async flush(): Promise<void> {
    if (this.sending || this.queued.size === 0) return;
    this.sending = true;
    const batch = [...this.queued];
    this.queued.clear();
    try {
      await this.send(batch);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, partitions: batch.length }, 'ISR change not sent');
      for (const [p] of batch) p.isrFailed(Date.now());
    } finally {
      this.sending = false;
      void this.flush();
    }
  }

  private async send(batch: [Partition, readonly number[]][]): Promise<void> {
    const byTopic = new Map<string, [Partition, readonly number[]][]>();
    for (const entry of batch) {
      const list = byTopic.get(entry[0].topicId) ?? [];
      list.push(entry);
      byTopic.set(entry[0].topicId, list);
    }
    const response = await this.channel.send(
      ApiKey.AlterPartition,
      ALTER_PARTITION_VERSION,
      {
        brokerId: this.brokerId,
        brokerEpoch: BigInt(this.brokerEpoch()),
        topics: [...byTopic].map(([topicId, entries]) => ({
          topicName: entries[0]![0].topic,
          topicId,
          partitions: entries.map(([p, isr]) => ({
            partitionIndex: p.partition,
            leaderEpoch: p.epochs.leaderEpoch,
            partitionEpoch: p.epochs.partitionEpoch,
            newIsr: [], // v3 carries the ISR with broker epochs instead
            newIsrWithEpochs: isr.map((brokerId) => ({ brokerId, brokerEpoch: -1n })),
          })),
        })),
      },
      this.requestTimeoutMs,
    );
    const now = Date.now();
    const answered = new Set<Partition>();
    for (const t of response.topics) {
      const entries = byTopic.get(t.topicId) ?? [];
      for (const r of t.partitions) {
        const entry = entries.find(([p]) => p.partition === r.partitionIndex);
        if (!entry) continue;
        answered.add(entry[0]);
        if (r.errorCode === ErrorCode.NONE) entry[0].isrCommitted(r.isr, r.partitionEpoch, now);
        else {
          this.log.info(
            { topic: entry[0].topic, partition: r.partitionIndex, errorCode: r.errorCode },
            'ISR change refused',
          );
          entry[0].isrFailed(now);
        }
      }
    }
    for (const [p] of batch) if (!answered.has(p)) p.isrFailed(now);
  }
}
