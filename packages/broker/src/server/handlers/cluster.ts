import { statfsSync } from 'node:fs';
import { AclOperation, ResourceType } from '@fjord/metadata';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { OffsetOutOfRangeError } from '../../storage/PartitionLog.js';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';
import {
  authorize,
  authorizeByResourceType,
  authorizeCluster,
  authorizedOperations,
  filterAuthorized,
} from '../RequestAuthorizer.js';
import { brokersFor } from './metadata.js';
import { deleteRecordsPartitionError, epochEndOffsetError } from './partitionErrors.js';

export const describeClusterHandler = defineHandler({
  apiKey: ApiKey.DescribeCluster,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: req.endpointType,
      clusterId: b.clusterId,
      controllerId: b.controllerId(),
      brokers: brokersFor(b.metadata.image, ctx.connection.listenerName).map((n) => ({
        brokerId: n.nodeId,
        host: n.host,
        port: n.port,
        rack: n.rack,
      })),
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations
        ? authorizeCluster(ctx, AclOperation.DESCRIBE)
          ? authorizedOperations(ctx, ResourceType.CLUSTER, 'kafka-cluster')
          : 0
        : -2147483648,
    };
  },
});

/**
 * InitProducerId. With a transactional id: the transaction coordinator's answer (epoch bump,
 * fencing, KIP-360 recovery). Without (idempotent producers): always a fresh producer id, whatever
 * id and epoch the request names, as Kafka's coordinator does (clients such as @platformatic/kafka
 * name producer id 0: answering them with that id would give every such producer the same one).
 */
export const initProducerIdHandler = defineHandler({
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx: RequestContext) {
    const denied = (errorCode: number) => ({
      throttleTimeMs: 0,
      errorCode,
      producerId: -1n,
      producerEpoch: -1,
    });
    if (req.transactionalId !== null) {
      if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId))
        return denied(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      const r = await ctx.broker.transactions.initProducerId(
        req.transactionalId,
        req.transactionTimeoutMs,
        req.producerId >= 0n ? { producerId: req.producerId, producerEpoch: req.producerEpoch } : undefined,
      );
      // KIP-588's PRODUCER_FENCED is INVALID_PRODUCER_EPOCH to versions before 4.
      const errorCode =
        r.errorCode === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 4
          ? ErrorCode.INVALID_PRODUCER_EPOCH
          : r.errorCode;
      return { throttleTimeMs: 0, errorCode, producerId: r.producerId, producerEpoch: r.producerEpoch };
    }
    if (
      // Idempotent producers: IDEMPOTENT_WRITE on the cluster, or WRITE on some topic (KIP-679).
      !authorizeCluster(ctx, AclOperation.IDEMPOTENT_WRITE, false) &&
      !authorizeByResourceType(ctx, AclOperation.WRITE, ResourceType.TOPIC)
    )
      return denied(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const producerId = await ctx.broker.producerIds.allocate();
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch: 0 };
  },
});

export const deleteRecordsHandler = defineHandler({
  apiKey: ApiKey.DeleteRecords,
  minVersion: 0,
  maxVersion: 2,
  handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    const deletable = filterAuthorized(
      ctx,
      AclOperation.DELETE,
      ResourceType.TOPIC,
      req.topics.map((t) => t.name),
    );
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((rp) => {
          if (!deletable.has(t.name))
            return deleteRecordsPartitionError(rp.partitionIndex, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          const p = b.replicas.leaderFor(b.metadata.image, t.name, rp.partitionIndex);
          if (typeof p === 'number') return deleteRecordsPartitionError(rp.partitionIndex, p);
          // -1 means "up to the high watermark".
          const target = rp.offset === -1n ? p.highWatermark : Number(rp.offset);
          if (target > p.highWatermark || target < 0)
            return deleteRecordsPartitionError(rp.partitionIndex, ErrorCode.OFFSET_OUT_OF_RANGE);
          try {
            return {
              partitionIndex: rp.partitionIndex,
              lowWatermark: BigInt(p.log.deleteRecordsBefore(target)),
              errorCode: ErrorCode.NONE,
            };
          } catch (e) {
            if (!(e instanceof OffsetOutOfRangeError)) throw e;
            return deleteRecordsPartitionError(rp.partitionIndex, ErrorCode.OFFSET_OUT_OF_RANGE);
          }
        }),
      })),
    };
  },
});

export const offsetForLeaderEpochHandler = defineHandler({
  apiKey: ApiKey.OffsetForLeaderEpoch,
  minVersion: 0,
  maxVersion: 4,
  handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    // Followers hold CLUSTER_ACTION; other clients need DESCRIBE on each topic.
    const describable = authorizeCluster(ctx, AclOperation.CLUSTER_ACTION, false)
      ? undefined
      : filterAuthorized(
          ctx,
          AclOperation.DESCRIBE,
          ResourceType.TOPIC,
          req.topics.map((t) => t.topic),
        );
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((rp) => {
          if (describable && !describable.has(t.topic))
            return epochEndOffsetError(rp.partition, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          const p = b.replicas.leaderFor(b.metadata.image, t.topic, rp.partition, rp.currentLeaderEpoch);
          if (typeof p === 'number') return epochEndOffsetError(rp.partition, p);
          const r = p.log.leaderEpochs.endOffsetFor(rp.leaderEpoch, p.log.logEndOffset);
          return {
            partition: rp.partition,
            errorCode: ErrorCode.NONE,
            leaderEpoch: ctx.apiVersion >= 1 ? r.epoch : -1,
            endOffset: BigInt(r.endOffset),
          };
        }),
      })),
    };
  },
});

export const describeLogDirsHandler = defineHandler({
  apiKey: ApiKey.DescribeLogDirs,
  minVersion: 0,
  maxVersion: 4,
  handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE))
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
    const wanted =
      req.topics === null ? null : new Map(req.topics.map((t) => [t.topic, new Set(t.partitions)]));
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: b.logs.dirs.map((dir) => {
        const byTopic = new Map<
          string,
          { partitionIndex: number; partitionSize: bigint; offsetLag: bigint; isFutureKey: boolean }[]
        >();
        for (const p of b.replicas.all()) {
          if (b.logs.dirOf(p.topic, p.partition) !== dir) continue;
          if (wanted && !wanted.get(p.topic)?.has(p.partition)) continue;
          const list = byTopic.get(p.topic) ?? [];
          list.push({
            partitionIndex: p.partition,
            partitionSize: BigInt(p.log.sizeInBytes),
            offsetLag: 0n,
            isFutureKey: false,
          });
          byTopic.set(p.topic, list);
        }
        let totalBytes = -1n;
        let usableBytes = -1n;
        try {
          const s = statfsSync(dir);
          totalBytes = BigInt(s.blocks) * BigInt(s.bsize);
          usableBytes = BigInt(s.bavail) * BigInt(s.bsize);
        } catch {
          // unknown sizes stay -1, as Kafka reports them
        }
        if (!b.logs.isDirOnline(dir))
          return {
            errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
            logDir: dir,
            topics: [],
            totalBytes: -1n,
            usableBytes: -1n,
          };
        return {
          errorCode: ErrorCode.NONE,
          logDir: dir,
          topics: [...byTopic.entries()].map(([name, partitions]) => ({ name, partitions })),
          totalBytes,
          usableBytes,
        };
      }),
    };
  },
});

/**
 * AlterReplicaLogDirs (KIP-113): moves this broker's replicas between its log dirs. Kafka copies
 * into a "future" replica in the background; here the partition's files are copied while it
 * takes no writes, then it carries on from the new dir (fine for the sizes one dir move takes
 * seconds for). Needs ALTER on the cluster. Unknown dirs answer LOG_DIR_NOT_FOUND, replicas this
 * broker does not host REPLICA_NOT_AVAILABLE, failed dirs KAFKA_STORAGE_ERROR.
 */
export const alterReplicaLogDirsHandler = defineHandler({
  apiKey: ApiKey.AlterReplicaLogDirs,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    const allowed = authorizeCluster(ctx, AclOperation.ALTER);
    const results = new Map<string, { partitionIndex: number; errorCode: number }[]>();
    const answer = (topic: string, partitionIndex: number, errorCode: number) => {
      results.set(topic, [...(results.get(topic) ?? []), { partitionIndex, errorCode }]);
    };
    for (const dir of req.dirs) {
      const known = b.logs.dirs.includes(dir.path);
      for (const t of dir.topics)
        for (const partition of t.partitions) {
          if (!allowed) answer(t.name, partition, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
          else if (!known) answer(t.name, partition, ErrorCode.LOG_DIR_NOT_FOUND);
          else if (!b.logs.isDirOnline(dir.path)) answer(t.name, partition, ErrorCode.KAFKA_STORAGE_ERROR);
          else {
            try {
              const moved = await b.replicas.moveReplica(t.name, partition, dir.path, b.now());
              answer(t.name, partition, moved ? ErrorCode.NONE : ErrorCode.REPLICA_NOT_AVAILABLE);
            } catch (err) {
              b.log.warn({ err, topic: t.name, partition, dir: dir.path }, 'replica move failed');
              answer(t.name, partition, ErrorCode.KAFKA_STORAGE_ERROR);
            }
          }
        }
    }
    return {
      throttleTimeMs: 0,
      results: [...results].map(([topicName, partitions]) => ({ topicName, partitions })),
    };
  },
});
