import { AclOperation, ResourceType } from '@fjord/metadata';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { OFFSETS_TOPIC } from '../../group/ConsumerOffsetsStore.js';
import type { TopicPartition } from '../../transaction/TransactionCoordinator.js';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';
import { authorize, authorizeCluster, filterAuthorized } from '../RequestAuthorizer.js';

/**
 * PRODUCER_FENCED exists from Kafka 2.7 (KIP-588); older request versions get
 * INVALID_PRODUCER_EPOCH instead, as Kafka's KafkaApis answers them.
 */
function fencedAs(errorCode: number, apiVersion: number, firstVersionWithFenced: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && apiVersion < firstVersionWithFenced
    ? ErrorCode.INVALID_PRODUCER_EPOCH
    : errorCode;
}

function writeTransactionalId(ctx: RequestContext, transactionalId: string): boolean {
  return authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId);
}

/** AddPartitionsToTxn v0–v3 (v4's batched form is the brokers' own, KIP-890). */
export const addPartitionsToTxnHandler = defineHandler({
  apiKey: ApiKey.AddPartitionsToTxn,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    const topics = req.v3AndBelowTopics;
    const answer = (codeOf: (topic: string, partition: number) => number) => ({
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      resultsByTransaction: [],
      resultsByTopicV3AndBelow: topics.map((t) => ({
        name: t.name,
        resultsByPartition: t.partitions.map((p) => ({
          partitionIndex: p,
          partitionErrorCode: codeOf(t.name, p),
        })),
      })),
    });
    if (!writeTransactionalId(ctx, req.v3AndBelowTransactionalId))
      return answer(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    // Kafka's order: unauthorized topics, then unknown partitions; the rest are not attempted.
    const writable = filterAuthorized(
      ctx,
      AclOperation.WRITE,
      ResourceType.TOPIC,
      topics.map((t) => t.name),
    );
    if (topics.some((t) => !writable.has(t.name)))
      return answer((t) =>
        writable.has(t) ? ErrorCode.OPERATION_NOT_ATTEMPTED : ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      );
    const image = b.metadata.image;
    const unknown = (t: string, p: number) => image.partition(t, p) === undefined;
    if (topics.some((t) => t.partitions.some((p) => unknown(t.name, p))))
      return answer((t, p) =>
        unknown(t, p) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED,
      );
    const partitions: TopicPartition[] = topics.flatMap((t) =>
      t.partitions.map((partition) => ({ topic: t.name, partition })),
    );
    const error = await b.transactions.addPartitions(
      req.v3AndBelowTransactionalId,
      req.v3AndBelowProducerId,
      req.v3AndBelowProducerEpoch,
      partitions,
    );
    const code = fencedAs(error, ctx.apiVersion, 2);
    return answer(() => code);
  },
});

/** AddOffsetsToTxn: the group's `__consumer_offsets` partition joins the transaction. */
export const addOffsetsToTxnHandler = defineHandler({
  apiKey: ApiKey.AddOffsetsToTxn,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    const answer = (errorCode: number) => ({ throttleTimeMs: 0, errorCode });
    if (!writeTransactionalId(ctx, req.transactionalId))
      return answer(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, req.groupId))
      return answer(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    await b.ensureTopic(OFFSETS_TOPIC, b.config.offsetsTopicPartitions, {
      'cleanup.policy': 'compact',
      'segment.bytes': String(b.config.values.get('offsets.topic.segment.bytes')),
    });
    const error = await b.transactions.addPartitions(req.transactionalId, req.producerId, req.producerEpoch, [
      { topic: OFFSETS_TOPIC, partition: b.offsetsPartitionOf(req.groupId) },
    ]);
    return answer(fencedAs(error, ctx.apiVersion, 2));
  },
});

export const endTxnHandler = defineHandler({
  apiKey: ApiKey.EndTxn,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx: RequestContext) {
    const answer = (errorCode: number) => ({ throttleTimeMs: 0, errorCode });
    if (!writeTransactionalId(ctx, req.transactionalId))
      return answer(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const error = await ctx.broker.transactions.endTransaction(
      req.transactionalId,
      req.producerId,
      req.producerEpoch,
      req.committed,
    );
    return answer(fencedAs(error, ctx.apiVersion, 2));
  },
});

/** TxnOffsetCommit, at the group coordinator: offsets pending until the transaction's marker. */
export const txnOffsetCommitHandler = defineHandler({
  apiKey: ApiKey.TxnOffsetCommit,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    const answer = (codeOf: (topic: string, i: number) => number) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p, i) => ({
          partitionIndex: p.partitionIndex,
          errorCode: codeOf(t.name, i),
        })),
      })),
    });
    if (!writeTransactionalId(ctx, req.transactionalId))
      return answer(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, req.groupId))
      return answer(() => ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const notHere = b.coordinatorError(req.groupId);
    if (notHere !== ErrorCode.NONE) return answer(() => notHere);
    const readable = filterAuthorized(
      ctx,
      AclOperation.READ,
      ResourceType.TOPIC,
      req.topics.map((t) => t.name),
    );
    const wanted = req.topics
      .filter((t) => readable.has(t.name))
      .flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch,
          metadata: p.committedMetadata,
        })),
      );
    const codes = await b.groups.commitTransactionalOffsets(
      req.groupId,
      { producerId: req.producerId, producerEpoch: req.producerEpoch },
      { generationId: req.generationId, memberId: req.memberId, groupInstanceId: req.groupInstanceId },
      wanted,
    );
    let next = 0;
    const byTopic = new Map<string, number[]>();
    for (const t of req.topics) {
      if (!readable.has(t.name)) continue;
      byTopic.set(
        t.name,
        t.partitions.map(() => codes[next++]!),
      );
    }
    return answer((topic, i) => byTopic.get(topic)?.[i] ?? ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  },
});

/** WriteTxnMarkers, from a transaction coordinator to this partition leader (CLUSTER_ACTION). */
export const writeTxnMarkersHandler = defineHandler({
  apiKey: ApiKey.WriteTxnMarkers,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx: RequestContext) {
    const allowed = authorizeCluster(ctx, AclOperation.CLUSTER_ACTION);
    const markers = await Promise.all(
      req.markers.map(async (m) => {
        const tps: TopicPartition[] = m.topics.flatMap((t) =>
          t.partitionIndexes.map((partition) => ({ topic: t.name, partition })),
        );
        const codes = allowed
          ? await ctx.broker.appendTxnMarkers(
              {
                producerId: m.producerId,
                producerEpoch: m.producerEpoch,
                coordinatorEpoch: m.coordinatorEpoch,
                commit: m.transactionResult,
              },
              tps,
            )
          : tps.map(() => ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
        let i = 0;
        return {
          producerId: m.producerId,
          topics: m.topics.map((t) => ({
            name: t.name,
            partitions: t.partitionIndexes.map((partitionIndex) => ({
              partitionIndex,
              errorCode: codes[i++]!,
            })),
          })),
        };
      }),
    );
    return { markers };
  },
});
