import type { MetadataImage } from '@fjord/metadata';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { type BrokerAddress, BrokerClient } from '../network/BrokerClient.js';
import type { InterBrokerSecurity } from '../security/InterBrokerSecurity.js';

const LIST_OFFSETS_VERSION = 7;
/** A scrape waits at most this long for other brokers; lag is left out for what did not answer. */
const TIMEOUT_MS = 2000;

export interface TopicPartitionRef {
  readonly topic: string;
  readonly partition: number;
}

export const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * High watermarks of partitions this broker does not host, asked of their leaders with
 * ListOffsets (latest, as a consumer sees it: kafka-exporter's way), one request per leader per
 * scrape, over one kept connection per leader.
 */
export class RemoteLogEnds {
  private readonly clients = new Map<number, BrokerClient>();

  constructor(
    private readonly brokerId: number,
    private readonly addressOf: (brokerId: number) => BrokerAddress | undefined,
    /** How this broker connects to the others (TLS, SASL). */
    private readonly security?: InterBrokerSecurity,
  ) {}

  async highWatermarks(
    image: MetadataImage,
    wanted: readonly TopicPartitionRef[],
  ): Promise<Map<string, number>> {
    const byLeader = new Map<number, Map<string, number[]>>();
    for (const w of wanted) {
      const leader = image.partition(w.topic, w.partition)?.leader ?? -1;
      if (leader < 0 || leader === this.brokerId) continue;
      let topics = byLeader.get(leader);
      if (!topics) {
        topics = new Map();
        byLeader.set(leader, topics);
      }
      const parts = topics.get(w.topic);
      if (!parts) topics.set(w.topic, [w.partition]);
      else if (!parts.includes(w.partition)) parts.push(w.partition);
    }
    const ends = new Map<string, number>();
    await Promise.allSettled(
      [...byLeader].map(async ([leader, topics]) => {
        const res = await this.client(leader).send(
          ApiKey.ListOffsets,
          LIST_OFFSETS_VERSION,
          {
            replicaId: -1,
            isolationLevel: 0,
            timeoutMs: TIMEOUT_MS,
            topics: [...topics].map(([name, parts]) => ({
              name,
              partitions: parts.map((partitionIndex) => ({
                partitionIndex,
                currentLeaderEpoch: -1,
                timestamp: -1n,
              })),
            })),
          },
          TIMEOUT_MS,
        );
        for (const t of res.topics)
          for (const p of t.partitions)
            if (p.errorCode === ErrorCode.NONE) ends.set(tpKey(t.name, p.partitionIndex), Number(p.offset));
      }),
    );
    // Leaders that left the cluster keep no connection.
    for (const [id, c] of this.clients)
      if (!image.brokers.has(id)) {
        c.close();
        this.clients.delete(id);
      }
    return ends;
  }

  private client(leader: number): BrokerClient {
    let c = this.clients.get(leader);
    if (!c) {
      c = new BrokerClient(() => this.addressOf(leader), {
        clientId: `broker-${this.brokerId}-metrics`,
        connectTimeoutMs: TIMEOUT_MS,
        requestTimeoutMs: TIMEOUT_MS,
        maxResponseBytes: 16 * 1024 * 1024,
        security: this.security,
      });
      this.clients.set(leader, c);
    }
    return c;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
