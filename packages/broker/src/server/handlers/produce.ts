import { AclOperation, ResourceType } from '@fjord/metadata';
import {
  ApiKey,
  CompressionCodec,
  ErrorCode,
  keylessRecordIndexes,
  type ProduceResponsePartitionProduceResponseInput,
  type ProduceResponseTopicProduceResponseInput,
  recompressBatches,
  validateProduceRecords,
} from '@fjord/protocol';
import type { TrafficMetrics } from '../../metrics/TrafficMetrics.js';
import {
  awaitReplication,
  type ReplicationOutcome,
  type ReplicationWait,
} from '../../replica/DelayedProduce.js';
import { parseCleanupPolicy } from '../../storage/LogConfig.js';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';
import { quotaClient } from '../QuotaClient.js';
import { authorize, filterAuthorized } from '../RequestAuthorizer.js';
import { code } from './errors.js';
import { producePartitionError } from './partitionErrors.js';

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
    const waits: ReplicationWait[] = [];
    const waiting: ProduceResponsePartitionProduceResponseInput[] = [];
    // Asked once per request, when the first partition is about to be appended to.
    let diskFull: string | null | undefined;
    for (const topic of req.topicData) {
      const partitionResponses: ProduceResponsePartitionProduceResponseInput[] = [];
      if (!writable.has(topic.name)) {
        for (const p of topic.partitionData)
          partitionResponses.push(producePartitionError(p.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED, null));
        responses.push({ name: topic.name, partitionResponses });
        continue;
      }
      const known = image.topic(topic.name) !== undefined;
      const maxBatchBytes = known ? Number(b.configs.topicConfig(image, topic.name, 'max.message.bytes')) : 0;
      const minIsr = known ? Number(b.configs.topicConfig(image, topic.name, 'min.insync.replicas')) : 1;
      const targetCodec = known
        ? TOPIC_CODECS[b.configs.topicConfig(image, topic.name, 'compression.type') ?? 'producer']
        : undefined;
      // Only compacted topics pay for decoding records (the key check); others stay header-only.
      const compacted =
        known && parseCleanupPolicy(b.configs.topicConfig(image, topic.name, 'cleanup.policy')).compact;
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
        const validated = validateProduceRecords(p.records, {
          produceVersion: ctx.apiVersion,
          maxBatchBytes,
        });
        if (!validated.ok) {
          partitionResponses.push(producePartitionError(p.index, code(validated.error), validated.message));
          continue;
        }
        let data = validated.data;
        if (compacted) {
          let keyless: number[];
          try {
            keyless = keylessRecordIndexes(data, maxBatchBytes * 64);
          } catch (e) {
            partitionResponses.push(
              producePartitionError(p.index, ErrorCode.CORRUPT_MESSAGE, (e as Error).message),
            );
            continue;
          }
          if (keyless.length > 0) {
            partitionResponses.push(keylessRefusal(p.index, topic.name, keyless));
            continue;
          }
        }
        if (targetCodec !== undefined) {
          try {
            data = recompressBatches(data, targetCodec, maxBatchBytes * 64);
          } catch (e) {
            partitionResponses.push(
              producePartitionError(p.index, ErrorCode.CORRUPT_MESSAGE, (e as Error).message),
            );
            continue;
          }
        }
        if (partition.isLeader) {
          if (diskFull === undefined) diskFull = b.diskBudget.fullReason(now) ?? null;
          if (diskFull !== null) {
            // Retriable in every client (Java, librdkafka, kafkajs), and nothing was written.
            b.diskBudget.refusedProduce++;
            partitionResponses.push(producePartitionError(p.index, ErrorCode.KAFKA_STORAGE_ERROR, diskFull));
            continue;
          }
        }
        const outcome = partition.appendAsLeader(data, validated.batches, req.acks, minIsr, now);
        if (!outcome.ok) {
          partitionResponses.push(producePartitionError(p.index, code(outcome.error), outcome.message));
          continue;
        }
        b.diskBudget.appended(data.length);
        // Messages from the batch headers (validation summed them), bytes as the client sent them.
        traffic?.produced(topic.name, validated.recordCount, p.records.length);
        const response: ProduceResponsePartitionProduceResponseInput = {
          index: p.index,
          errorCode: ErrorCode.NONE,
          baseOffset: BigInt(outcome.firstOffset),
          logAppendTimeMs: BigInt(outcome.logAppendTime),
          logStartOffset: BigInt(outcome.logStartOffset),
          recordErrors: [],
          errorMessage: null,
        };
        partitionResponses.push(response);
        if (req.acks === -1) {
          waits.push({ partition, requiredOffset: outcome.lastOffset + 1, minInsyncReplicas: minIsr });
          waiting.push(response);
        }
      }
      responses.push({ name: topic.name, partitionResponses });
    }
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
  },
});
