import { AclOperation, ResourceType } from '@fjord/metadata';
import {
  ApiKey,
  CompressionCodec,
  ErrorCode,
  type ProduceResponsePartitionProduceResponseInput,
  type ProduceResponseTopicProduceResponseInput,
} from '@fjord/protocol';
import type { TrafficMetrics } from '../../metrics/TrafficMetrics.js';
import type { ConnectionInfo } from '../../network/RequestContext.js';
import {
  awaitReplication,
  type ReplicationOutcome,
  type ReplicationWait,
} from '../../replica/DelayedProduce.js';
import type { Partition } from '../../replica/Partition.js';
import { parseCleanupPolicy } from '../../storage/LogConfig.js';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';
import { quotaClient } from '../QuotaClient.js';
import { authorize, filterAuthorized } from '../RequestAuthorizer.js';
import { code } from './errors.js';
import { producePartitionError } from './partitionErrors.js';
import { type PreparedRecords, type PrepareOptions, prepareProduceRecords } from './prepareProduceRecords.js';

/** Topic compression.type → codec id; "producer" keeps the client's batches as they are. */
const TOPIC_CODECS: Record<string, number | undefined> = {
  producer: undefined,
  uncompressed: CompressionCodec.none,
  gzip: CompressionCodec.gzip,
  snappy: CompressionCodec.snappy,
  lz4: CompressionCodec.lz4,
  zstd: CompressionCodec.zstd,
};

/**
 * A compacted topic refuses records without a key (the cleaner could never keep them), as
 * Kafka 3.x's LogValidator does: INVALID_RECORD with one record error per keyless record.
 */
function keylessRefusal(
  index: number,
  topic: string,
  keyless: readonly number[],
): ProduceResponsePartitionProduceResponseInput {
  const message = `Compacted topic cannot accept message without key in topic partition ${topic}-${index}.`;
  const shown = keyless
    .slice(0, 3)
    .map((i) => `RecordError(batchIndex=${i}, message='${message}')`)
    .join(', ');
  return {
    ...producePartitionError(
      index,
      ErrorCode.INVALID_RECORD,
      `One or more records have been rejected due to ${keyless.length} record errors in total, and only showing the first three errors at most: [${shown}]`,
    ),
    recordErrors: keyless.map((batchIndex) => ({ batchIndex, batchIndexErrorMessage: message })),
  };
}

/** A partition of a produce request that passed the checks on the event loop. */
interface PartitionItem {
  readonly topic: string;
  readonly index: number;
  readonly partition: Partition;
  readonly minIsr: number;
  /** Bytes of the records as the client sent them. */
  readonly requestBytes: number;
  /** The topic's partition responses, and this partition's place in them. */
  readonly responses: ProduceResponsePartitionProduceResponseInput[];
  readonly slot: number;
  readonly prepared: PreparedRecords | Promise<PreparedRecords>;
}

/** Per connection, the last produce request's append step (shard threads only). */
const produceTails = new WeakMap<ConnectionInfo, Promise<void>>();

/**
 * Runs `append` once `ready` has settled and the connection's previous produce request has
 * appended, so an idempotent producer's pipelined batches land in the order it sent them even
 * when a later request's records come back from its shards first.
 */
function inConnectionOrder<T>(
  connection: ConnectionInfo,
  ready: Promise<T>,
  append: (value: T) => void,
): Promise<void> {
  const previous = produceTails.get(connection) ?? Promise.resolve();
  const step = Promise.all([previous, ready]).then(([, value]) => append(value));
  produceTails.set(
    connection,
    step.catch(() => undefined),
  );
  return step;
}

/** Kafka's FailedProduceRequestsPerSec: one per partition answered with an error. */
function countFailures(
  traffic: TrafficMetrics,
  responses: readonly ProduceResponseTopicProduceResponseInput[],
) {
  for (const t of responses)
    for (const p of t.partitionResponses) if (p.errorCode !== ErrorCode.NONE) traffic.produceFailed(t.name);
}

/**
 * Produce: validate each partition's batches from their headers, append the client's bytes
 * as they are (offsets stamped in place), answer per partition. acks=0 gets no response.
 */
export const produceHandler = defineHandler({
  apiKey: ApiKey.Produce,
  minVersion: 0,
  maxVersion: 11,
  handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    const image = b.metadata.image;
    const now = b.now();
    const traffic = b.metrics?.traffic;
    const responses: ProduceResponseTopicProduceResponseInput[] = [];
    const writable = filterAuthorized(
      ctx,
      AclOperation.WRITE,
      ResourceType.TOPIC,
      req.topicData.map((t) => t.name),
    );
    // A transactional producer needs WRITE on its transactional id, for every partition (Kafka).
    if (
      req.transactionalId !== null &&
      !authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId)
    ) {
      const denied = req.topicData.map((t) => ({
        name: t.name,
        partitionResponses: t.partitionData.map((p) =>
          producePartitionError(p.index, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, null),
        ),
      }));
      return req.acks === 0 ? null : { responses: denied, throttleTimeMs: 0 };
    }
    // Phase 1, per partition in request order: the checks that need broker state, then the pure
    // preparation of the records — here, or on the partition's shard thread (docs/adr/0023).
    const shards = b.shards;
    const items: PartitionItem[] = [];
    for (const topic of req.topicData) {
      const partitionResponses: ProduceResponsePartitionProduceResponseInput[] = [];
      responses.push({ name: topic.name, partitionResponses });
      if (!writable.has(topic.name)) {
        for (const p of topic.partitionData)
          partitionResponses.push(producePartitionError(p.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED, null));
        continue;
      }
      const known = image.topic(topic.name) !== undefined;
      const maxBatchBytes = known ? Number(b.configs.topicConfig(image, topic.name, 'max.message.bytes')) : 0;
      const minIsr = known ? Number(b.configs.topicConfig(image, topic.name, 'min.insync.replicas')) : 1;
      const opts: PrepareOptions = {
        produceVersion: ctx.apiVersion,
        maxBatchBytes,
        targetCodec: known
          ? TOPIC_CODECS[b.configs.topicConfig(image, topic.name, 'compression.type') ?? 'producer']
          : undefined,
        // Only compacted topics pay for decoding records (the key check); others stay header-only.
        compacted:
          known && parseCleanupPolicy(b.configs.topicConfig(image, topic.name, 'cleanup.policy')).compact,
      };
      for (const p of topic.partitionData) {
        const partition = b.replicas.get(topic.name, p.index);
        if (!partition) {
          const state = image.partition(topic.name, p.index);
          partitionResponses.push(
            producePartitionError(
              p.index,
              state ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
              null,
            ),
          );
          continue;
        }
        if (p.records === null || p.records.length === 0) {
          partitionResponses.push(
            producePartitionError(p.index, ErrorCode.CORRUPT_MESSAGE, 'empty record set'),
          );
          continue;
        }
        const slot = partitionResponses.length;
        partitionResponses.push(producePartitionError(p.index, ErrorCode.NONE, null));
        items.push({
          topic: topic.name,
          index: p.index,
          partition,
          minIsr,
          requestBytes: p.records.length,
          responses: partitionResponses,
          slot,
          prepared: shards
            ? shards.prepare(topic.name, p.index, p.records, opts)
            : prepareProduceRecords(p.records, opts),
        });
      }
    }
    const waits: ReplicationWait[] = [];
    const waiting: ProduceResponsePartitionProduceResponseInput[] = [];
    // Phase 2, in request order: append what was prepared.
    const appendAll = (prepared: readonly (PreparedRecords | Error)[]) => {
      // Asked once per request, when the first partition is about to be appended to.
      let diskFull: string | null | undefined;
      const appendNow = shards ? b.now() : now;
      items.forEach((item, i) => {
        const { index, partition, responses: out, slot } = item;
        const ready = prepared[i]!;
        if (ready instanceof Error) {
          // A shard thread died with these records: nothing was appended, the client retries.
          b.log.warn(
            { err: ready, topic: item.topic, partition: index },
            'produce records lost with a shard thread',
          );
          out[slot] = producePartitionError(index, ErrorCode.KAFKA_STORAGE_ERROR, ready.message);
          return;
        }
        if (ready.kind === 'error') {
          out[slot] = producePartitionError(index, code(ready.error), ready.message);
          return;
        }
        if (ready.kind === 'keyless') {
          out[slot] = keylessRefusal(index, item.topic, ready.keyless);
          return;
        }
        if (partition.isLeader) {
          if (diskFull === undefined) diskFull = b.diskBudget.fullReason(appendNow) ?? null;
          if (diskFull !== null) {
            // Retriable in every client (Java, librdkafka, kafkajs), and nothing was written.
            b.diskBudget.refusedProduce++;
            out[slot] = producePartitionError(index, ErrorCode.KAFKA_STORAGE_ERROR, diskFull);
            return;
          }
        }
        const outcome = partition.appendAsLeader(ready.data, ready.batches, req.acks, item.minIsr, appendNow);
        if (!outcome.ok) {
          out[slot] = producePartitionError(index, code(outcome.error), outcome.message);
          return;
        }
        b.diskBudget.appended(ready.data.length);
        // Messages from the batch headers (validation summed them), bytes as the client sent them.
        traffic?.produced(item.topic, ready.recordCount, item.requestBytes);
        const response: ProduceResponsePartitionProduceResponseInput = {
          index,
          errorCode: ErrorCode.NONE,
          baseOffset: BigInt(outcome.firstOffset),
          logAppendTimeMs: BigInt(outcome.logAppendTime),
          logStartOffset: BigInt(outcome.logStartOffset),
          recordErrors: [],
          errorMessage: null,
        };
        out[slot] = response;
        if (req.acks === -1) {
          waits.push({ partition, requiredOffset: outcome.lastOffset + 1, minInsyncReplicas: item.minIsr });
          waiting.push(response);
        }
      });
    };
    const respond = () => {
      if (traffic) countFailures(traffic, responses);
      // Produce byte-rate quotas count the whole request; KafkaApis answers and mutes with the throttle.
      ctx.throttleTimeMs = b.quotas.recordProduce(image, quotaClient(ctx), ctx.requestSize, now);
      if (req.acks === 0) return null;
      const answer = (outcomes: readonly ReplicationOutcome[]) => {
        outcomes.forEach((error, i) => {
          if (error === undefined) return;
          waiting[i]!.errorCode = code(error);
          // A write that did not reach enough replicas is not acknowledged: no offset goes back.
          if (error !== 'NOT_ENOUGH_REPLICAS_AFTER_APPEND') waiting[i]!.baseOffset = -1n;
        });
        return { responses, throttleTimeMs: 0 };
      };
      if (waits.length === 0) return { responses, throttleTimeMs: 0 };
      const replicated = awaitReplication(waits, req.timeoutMs);
      return Array.isArray(replicated) ? answer(replicated) : replicated.then(answer);
    };
    if (!shards) {
      appendAll(items.map((item) => item.prepared as PreparedRecords));
      return respond();
    }
    // With shard threads, appends of one connection keep the order its requests arrived in:
    // each waits for the previous produce request of the connection to have appended.
    const settled = Promise.all(
      items.map((item) => (item.prepared as Promise<PreparedRecords>).catch((e: unknown) => e as Error)),
    );
    const appendThenRecycle = (prepared: readonly (PreparedRecords | Error)[]) => {
      appendAll(prepared);
      // Appended (written to the segment) or refused: the shard's buffers can carry new records.
      for (const r of prepared) if (!(r instanceof Error)) shards.recycle(r);
    };
    return inConnectionOrder(ctx.connection, settled, appendThenRecycle).then(respond);
  },
});
