import { type Connection, fetchV12, listOffsetsV5 } from '@platformatic/kafka';
import kafkajs from 'kafkajs';
import { withBrokerConnection } from './brokerConnection.js';
import { type AdminCredential, AdminError } from './InstanceAdmin.js';

export interface BrowsedMessage {
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Record<string, string>;
}

export interface MessagePage {
  readonly messages: BrowsedMessage[];
  /** Offset to ask for next; equals highWatermark when the page reached the end. */
  readonly nextOffset: number;
  readonly highWatermark: number;
}

const PAGE_BYTES = 1024 * 1024;
const CONSOLE = { clientId: 'fjord-console', purpose: 'messages' };
const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8'));

/**
 * The console's view of a partition: a bounded page of records from an offset or a timestamp
 * (ListOffsets + one Fetch, no consumer group), and producing one record. Talks to the broker
 * that leads the partition.
 */
export class MessageBrowser {
  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly credential: AdminCredential,
  ) {}

  /** The first offset whose timestamp is at or after `timestamp` (the end offset when none is). */
  private async offsetForTime(
    c: Connection,
    topic: string,
    partition: number,
    timestamp: bigint,
  ): Promise<bigint> {
    const r = await listOffsetsV5.api.async(c, -1, 0, [
      { name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp }] },
    ]);
    const p = r.topics[0]?.partitions[0];
    if (p?.errorCode !== 0) throw new AdminError(`ListOffsets ${topic}-${partition}: error ${p?.errorCode}`);
    // No record at or after the time: Kafka answers -1; the page starts at the end.
    if (p.offset < 0n && timestamp >= 0n) return this.offsetForTime(c, topic, partition, -1n);
    return p.offset;
  }

  read(
    topic: string,
    partition: number,
    from: { offset: number } | { timestamp: number } | { latest: number },
    limit: number,
  ): Promise<MessagePage> {
    return withBrokerConnection(
      { host: this.host, port: this.port, credential: this.credential },
      CONSOLE,
      async (c) => {
        let start: bigint;
        if ('offset' in from) start = BigInt(from.offset);
        else if ('timestamp' in from)
          start = await this.offsetForTime(c, topic, partition, BigInt(from.timestamp));
        else {
          const end = await this.offsetForTime(c, topic, partition, -1n);
          start = end - BigInt(from.latest) > 0n ? end - BigInt(from.latest) : 0n;
        }
        const r = await fetchV12.api.async(
          c,
          0,
          1,
          PAGE_BYTES,
          0,
          0,
          -1,
          [
            {
              topicId: topic,
              partitions: [
                {
                  partition,
                  currentLeaderEpoch: -1,
                  fetchOffset: start,
                  lastFetchedEpoch: -1,
                  partitionMaxBytes: PAGE_BYTES,
                },
              ],
            },
          ],
          [],
          '',
        );
        const p = r.responses[0]?.partitions[0];
        if (!p) throw new AdminError(`Fetch ${topic}-${partition}: empty answer`);
        if (p.errorCode === 1) {
          // OFFSET_OUT_OF_RANGE: an offset before the log start or past the end is an empty page.
          return { messages: [], nextOffset: Number(start), highWatermark: Number(p.highWatermark) };
        }
        if (p.errorCode !== 0)
          throw new AdminError(`Fetch ${topic}-${partition}: error ${p.errorCode}`, `KAFKA_${p.errorCode}`);
        const messages: BrowsedMessage[] = [];
        for (const batch of p.records ?? []) {
          for (const rec of batch.records) {
            const offset = batch.firstOffset + BigInt(rec.offsetDelta);
            if (offset < start || messages.length >= limit) continue;
            messages.push({
              partition,
              offset: Number(offset),
              timestamp: Number(batch.firstTimestamp + rec.timestampDelta),
              key: text(rec.key),
              value: text(rec.value),
              headers: Object.fromEntries(rec.headers.map(([k, v]) => [text(k) ?? '', text(v) ?? ''])),
            });
          }
        }
        const last = messages[messages.length - 1];
        const hw = Number(p.highWatermark);
        return {
          messages,
          nextOffset: last ? last.offset + 1 : Math.min(Number(start), hw),
          highWatermark: hw,
        };
      },
    );
  }

  async produce(
    topic: string,
    message: { partition?: number; key?: string; value: string; headers?: Record<string, string> },
  ): Promise<{ partition: number; offset: number }> {
    const kafka = new kafkajs.Kafka({
      clientId: 'fjord-console',
      brokers: [`${this.host}:${this.port}`],
      logLevel: kafkajs.logLevel.NOTHING,
      sasl: {
        mechanism: 'scram-sha-512',
        username: this.credential.username,
        password: this.credential.password,
      },
      retry: { retries: 1 },
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    try {
      await producer.connect();
      const [r] = await producer.send({
        topic,
        acks: -1,
        messages: [
          {
            value: message.value,
            key: message.key ?? null,
            partition: message.partition,
            headers: message.headers,
          },
        ],
      });
      return { partition: r!.partition, offset: Number(r!.baseOffset ?? r!.offset) };
    } catch (e) {
      throw new AdminError(`Produce ${topic}: ${(e as Error).message}`, (e as { type?: string }).type);
    } finally {
      await producer.disconnect().catch(() => {});
    }
  }
}
