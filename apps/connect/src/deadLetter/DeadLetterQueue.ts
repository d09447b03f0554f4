import { Producer } from '@platformatic/kafka';
import { CLIENT_DEFAULTS, type KafkaEndpoint } from '../kafkaEndpoint.js';
import type { DeadLetterRecord } from './deadLetterRecord.js';

/** Sends dead letters to a topic of the connector's own instance (idempotent, acks=all). */
export class DeadLetterQueue {
  private readonly producer: Producer;

  constructor(
    endpoint: KafkaEndpoint,
    clientId: string,
    readonly topic: string,
  ) {
    this.producer = new Producer({
      clientId,
      bootstrapBrokers: endpoint.bootstrap,
      ...endpoint.connection,
      ...CLIENT_DEFAULTS,
      retries: 3,
      idempotent: true,
      acks: -1,
    });
  }

  /** Fails with a clear reason when the topic is not there (it is not created on the fly). */
  async check(): Promise<void> {
    const md = await this.producer.metadata({ topics: [this.topic], forceUpdate: true }).catch(() => null);
    if (!md?.topics.get(this.topic)?.partitionsCount)
      throw new Error(`the dead-letter topic ${this.topic} does not exist on the instance`);
  }

  async send(records: readonly DeadLetterRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.producer.send({
      messages: records.map((r) => ({
        topic: this.topic,
        ...(r.key !== null ? { key: r.key } : {}),
        ...(r.value !== null ? { value: r.value } : {}),
        // Buffers as keys: repeated header names stay, in order, as Kafka allows.
        headers: new Map(r.headers),
        timestamp: r.timestamp,
      })),
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.producer.close(true, () => resolve()));
  }
}
