import type { MetadataImage } from '@fjord/metadata';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import type { Logger } from 'pino';
import type { BrokerClient } from '../network/BrokerClient.js';
import type { TxnMarker } from '../replica/ControlRecords.js';
import type { TopicPartition, TransactionMarkerSender } from './TransactionCoordinator.js';

export interface MarkerChannelDeps {
  readonly brokerId: number;
  image(): MetadataImage;
  /** Markers into partitions this broker leads (no network). */
  appendLocal(marker: TxnMarker, partitions: readonly TopicPartition[]): Promise<number[]>;
  /** A connection to another broker's inter-broker listener. */
  connect(brokerId: number): BrokerClient;
  readonly retryBackoffMs: number;
  readonly log: Logger;
}

/**
 * Kafka's TransactionMarkerChannelManager: a transaction's markers go to each partition's
 * leader — a local append here, WriteTxnMarkers to another broker — and are retried (leaders
 * move, replicas lag) until every partition has one, or until the coordinator lost the id or is
 * fenced by a newer one. Partitions of deleted topics are dropped, as Kafka does. `close` stops
 * retrying.
 */
export class TransactionMarkerChannel implements TransactionMarkerSender {
  private readonly clients = new Map<number, BrokerClient>();
  private closed = false;

  constructor(private readonly deps: MarkerChannelDeps) {}

  async send(
    marker: TxnMarker,
    partitions: readonly TopicPartition[],
    stillCurrent: () => boolean,
  ): Promise<boolean> {
    let left = [...partitions];
    while (left.length > 0) {
      if (this.closed || !stillCurrent()) return false;
      const image = this.deps.image();
      left = left.filter((tp) => image.partition(tp.topic, tp.partition) !== undefined);
      const byLeader = new Map<number, TopicPartition[]>();
      const failed: TopicPartition[] = [];
      for (const tp of left) {
        const leader = image.partition(tp.topic, tp.partition)?.leader ?? -1;
        if (leader < 0) {
          failed.push(tp);
          continue;
        }
        let list = byLeader.get(leader);
        if (!list) {
          list = [];
          byLeader.set(leader, list);
        }
        list.push(tp);
      }
      let fenced = false;
      await Promise.all(
        [...byLeader].map(async ([leader, tps]) => {
          const codes = await this.sendTo(leader, marker, tps);
          tps.forEach((tp, i) => {
            if (codes[i] === ErrorCode.TRANSACTION_COORDINATOR_FENCED) fenced = true;
            else if (codes[i] !== ErrorCode.NONE) failed.push(tp);
          });
        }),
      );
      // A newer coordinator has written markers for this producer: this one is a zombie.
      if (fenced) return false;
      left = failed;
      if (left.length > 0) await new Promise((r) => setTimeout(r, this.deps.retryBackoffMs));
    }
    return true;
  }

  private async sendTo(leader: number, marker: TxnMarker, tps: readonly TopicPartition[]): Promise<number[]> {
    if (leader === this.deps.brokerId) return this.deps.appendLocal(marker, tps);
    const topics = new Map<string, number[]>();
    for (const tp of tps) {
      let ps = topics.get(tp.topic);
      if (!ps) {
        ps = [];
        topics.set(tp.topic, ps);
      }
      ps.push(tp.partition);
    }
    let client = this.clients.get(leader);
    if (!client) {
      client = this.deps.connect(leader);
      this.clients.set(leader, client);
    }
    try {
      const r = await client.send(ApiKey.WriteTxnMarkers, 1, {
        markers: [
          {
            producerId: marker.producerId,
            producerEpoch: marker.producerEpoch,
            transactionResult: marker.commit,
            coordinatorEpoch: marker.coordinatorEpoch,
            topics: [...topics].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
          },
        ],
      });
      const byKey = new Map<string, number>();
      for (const m of r.markers)
        for (const t of m.topics)
          for (const p of t.partitions) byKey.set(`${t.name}:${p.partitionIndex}`, p.errorCode);
      return tps.map((tp) => byKey.get(`${tp.topic}:${tp.partition}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR);
    } catch (err) {
      this.deps.log.debug({ err, leader }, 'WriteTxnMarkers failed; retrying');
      return tps.map(() => ErrorCode.NETWORK_EXCEPTION);
    }
  }

  close(): void {
    this.closed = true;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
