import { type Admin, Consumer, type Message, Producer } from '@platformatic/kafka';

/** The client's transaction (its class is not exported by name). */
type Transaction = Awaited<ReturnType<Producer['beginTransaction']>>;

import { CLIENT_DEFAULTS, type KafkaEndpoint } from '../kafkaEndpoint.js';
import type { SinkRecord } from '../s3/objectLayout.js';

/** One source partition's fetched records and where its next read starts. */
export interface CopiedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly SinkRecord[];
  readonly nextOffset: bigint;
}

/**
 * How the mirror writes into the target: the records of a round (every partition the task fetched)
 * and where the source reads resume. `write` answers, per `topic/partition`, the target offset its
 * first record landed at when the partition's records went in one piece (for offset translation).
 */
export interface MirrorWriter {
  /** Before the first read of `resumeOffsets`. */
  start(): Promise<void>;
  /** Source offsets the target holds for the task's partitions (none: the control plane's progress decides). */
  resumeOffsets(partitions: readonly { topic: string; partition: number }[]): Promise<Map<string, bigint>>;
  write(batches: readonly CopiedBatch[]): Promise<Map<string, bigint>>;
  close(): Promise<void>;
}

const partitionKey = (p: { topic: string; partition: number }) => `${p.topic}/${p.partition}`;

function producerMessages(batches: readonly CopiedBatch[]) {
  return batches.flatMap((b) =>
    b.records.map((r) => ({
      topic: r.topic,
      partition: r.partition,
      ...(r.key !== null ? { key: r.key } : {}),
      ...(r.value !== null ? { value: r.value } : {}),
      // Buffers as keys: repeated header names stay, in order, as Kafka allows.
      headers: new Map(r.headers.map(([k, v]) => [k ?? Buffer.alloc(0), v ?? Buffer.alloc(0)])),
      timestamp: BigInt(r.timestamp),
    })),
  );
}

type ProducerMessage = ReturnType<typeof producerMessages>[number];

/**
 * Bytes of records per produce request: well under the target's default max.message.bytes (1 MiB).
 * A round can hold a whole fetch of a partition (up to 1 MiB), and the provenance header adds to
 * every record, so sent in one piece it would be refused as MESSAGE_TOO_LARGE.
 */
const MAX_SEND_BYTES = 256 * 1024;

/** Messages in send order, cut into pieces of at most `maxBytes` (a larger record goes alone). */
export function sendPieces<M extends Pick<ProducerMessage, 'key' | 'value' | 'headers'>>(
  messages: readonly M[],
  maxBytes = MAX_SEND_BYTES,
): M[][] {
  const pieces: M[][] = [];
  let piece: M[] = [];
  let bytes = 0;
  for (const m of messages) {
    let size = 64 + (m.key?.length ?? 0) + (m.value?.length ?? 0);
    for (const [k, v] of m.headers) size += k.length + v.length + 8;
    if (piece.length > 0 && bytes + size > maxBytes) {
      pieces.push(piece);
      piece = [];
      bytes = 0;
    }
    piece.push(m);
    bytes += size;
  }
  if (piece.length > 0) pieces.push(piece);
  return pieces;
}

/**
 * Where each partition's first record landed over several sends: kept only where every piece of
 * the partition went in one batch right after the previous one (the offsets run on unbroken).
 */
export function landedOverPieces(
  pieces: readonly {
    readonly landed: ReadonlyMap<string, bigint>;
    readonly counts: ReadonlyMap<string, number>;
  }[],
): Map<string, bigint> {
  const first = new Map<string, bigint>();
  const next = new Map<string, bigint>();
  const broken = new Set<string>();
  for (const { landed, counts } of pieces)
    for (const [key, n] of counts) {
      const base = landed.get(key);
      const expected = next.get(key);
      if (base === undefined || (expected !== undefined && expected !== base)) {
        broken.add(key);
        continue;
      }
      if (!first.has(key)) first.set(key, base);
      next.set(key, base + BigInt(n));
    }
  for (const key of broken) first.delete(key);
  return first;
}

/** Sends `messages` in pieces through `send`; answers where each partition's records landed. */
async function sendInPieces(
  messages: readonly ProducerMessage[],
  send: (
    messages: ProducerMessage[],
  ) => Promise<readonly { topic: string; partition: number; offset: bigint }[]>,
): Promise<Map<string, bigint>> {
  const results = [];
  for (const piece of sendPieces(messages)) {
    const counts = new Map<string, number>();
    for (const m of piece) counts.set(partitionKey(m), (counts.get(partitionKey(m)) ?? 0) + 1);
    results.push({ landed: landedOffsets(await send(piece)), counts });
  }
  return landedOverPieces(results);
}

/**
 * Where each partition's records landed, from a send's answer: one base offset per partition
 * means its records went in one piece; otherwise the partition is left out (unmapped, which only
 * costs translation precision).
 */
export function landedOffsets(
  answered: readonly { topic: string; partition: number; offset: bigint }[],
): Map<string, bigint> {
  const count = new Map<string, number>();
  for (const o of answered) count.set(partitionKey(o), (count.get(partitionKey(o)) ?? 0) + 1);
  return new Map(
    answered.filter((o) => count.get(partitionKey(o)) === 1).map((o) => [partitionKey(o), o.offset]),
  );
}

/** At least once: an idempotent acks=all producer; the control plane's progress is where reads resume. */
export class IdempotentMirrorWriter implements MirrorWriter {
  private readonly producer: Producer;

  constructor(to: KafkaEndpoint, clientId: string) {
    this.producer = new Producer({
      clientId,
      bootstrapBrokers: to.bootstrap,
      ...to.connection,
      ...CLIENT_DEFAULTS,
      retries: 3, // leadership moves on the target are retried by the client, not by failing the task
      idempotent: true,
      acks: -1,
    });
  }

  async start(): Promise<void> {}

  async resumeOffsets(): Promise<Map<string, bigint>> {
    return new Map();
  }

  async write(batches: readonly CopiedBatch[]): Promise<Map<string, bigint>> {
    return sendInPieces(
      producerMessages(batches),
      async (messages) => (await this.producer.send({ messages })).offsets ?? [],
    );
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.producer.close(true, () => resolve()));
  }
}

/** The target-side consumer group holding an exactly-once mirror's source offsets. */
export const mirrorOffsetsGroup = (connectorId: string) => `fjord-mirror.${connectorId}`;

/** A task's transactional id: the same wherever the task runs, so its next holder fences the last. */
export const mirrorTransactionalId = (connectorId: string, task: number) =>
  `fjord-mirror-${connectorId}-${task}`;

/** Long enough for a busy machine; also the transaction timeout the client asks for (its `timeout`). */
const TRANSACTION_TIMEOUT_MS = 60_000;

/**
 * Exactly once (MirrorMaker 2's KIP-656 design): each round's records and the source offsets after
 * them are one transaction on the target, the offsets committed (TxnOffsetCommit) to the group
 * `mirrorOffsetsGroup(connector)`, which nothing joins. `start` initialises the producer with a fixed
 * transactional id per task: the coordinator aborts whatever a previous holder left open and fences it
 * (its later writes fail), and only then are the resume offsets read from the group (require_stable),
 * so no committed round is missed and none is written twice.
 */
export class TransactionalMirrorWriter implements MirrorWriter {
  private readonly producer: Producer;
  /** Names the offsets group to the transaction (AddOffsetsToTxn); never joins it. */
  private readonly group: Consumer;
  private coordinator = -1;
  /** Begun (so the producer is initialised) but nothing sent in it yet. */
  private idle: Transaction | undefined;

  constructor(
    to: KafkaEndpoint,
    clientId: string,
    transactionalId: string,
    private readonly groupId: string,
    private readonly admin: Admin,
  ) {
    this.producer = new Producer({
      clientId,
      bootstrapBrokers: to.bootstrap,
      ...to.connection,
      ...CLIENT_DEFAULTS,
      retries: 3,
      timeout: TRANSACTION_TIMEOUT_MS,
      idempotent: true,
      transactionalId,
      acks: -1,
    });
    this.group = new Consumer({
      clientId,
      groupId,
      bootstrapBrokers: to.bootstrap,
      ...to.connection,
      ...CLIENT_DEFAULTS,
    });
  }

  /** InitProducerId: fences the previous holder of the transactional id. */
  async start(): Promise<void> {
    // -1/-1: a new session of this transactional id. The client's default, 0/0, claims producer id 0,
    // which the coordinator refuses (PRODUCER_FENCED) once the id has another producer.
    this.idle = await this.producer.beginTransaction({ producerId: -1n, producerEpoch: -1 });
    this.coordinator = await this.group.findGroupCoordinator();
  }

  async resumeOffsets(
    partitions: readonly { topic: string; partition: number }[],
  ): Promise<Map<string, bigint>> {
    const wanted = new Set(partitions.map(partitionKey));
    const [committed] = await this.admin.listConsumerGroupOffsets({
      groups: [this.groupId],
      requireStable: true,
    });
    const out = new Map<string, bigint>();
    for (const t of committed?.topics ?? [])
      for (const p of t.partitions) {
        const key = partitionKey({ topic: t.name, partition: p.partitionIndex });
        if (p.committedOffset >= 0n && wanted.has(key)) out.set(key, p.committedOffset);
      }
    return out;
  }

  async write(batches: readonly CopiedBatch[]): Promise<Map<string, bigint>> {
    if (batches.length === 0) return new Map();
    const txn = this.idle ?? (await this.producer.beginTransaction());
    this.idle = undefined;
    try {
      const landed = await sendInPieces(
        producerMessages(batches),
        async (messages) => (await txn.send({ messages })).offsets ?? [],
      );
      await txn.addConsumer(this.group);
      for (const b of batches) await txn.addOffset(this.offsetCommit(b));
      await txn.commit();
      return landed;
    } catch (err) {
      // Best effort, so a read_committed consumer is not held back until the transaction times out;
      // a fenced producer cannot abort (its successor already did).
      await txn.abort().catch(() => {});
      throw err;
    }
  }

  /**
   * The client commits a consumed message's offset + 1 for the member named in its metadata; the
   * mirror commits `nextOffset` as a group with no members does (generation -1, no member id).
   */
  private offsetCommit(b: CopiedBatch): Message {
    const message: Pick<Message, 'topic' | 'partition' | 'offset' | 'metadata'> = {
      topic: b.topic,
      partition: b.partition,
      offset: b.nextOffset - 1n,
      metadata: {
        consumer: { groupId: this.groupId, generationId: -1, memberId: '', coordinatorId: this.coordinator },
      },
    };
    return message as Message;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.producer.close(true, () => resolve()));
    await new Promise<void>((resolve) => this.group.close(true, () => resolve()));
  }
}
