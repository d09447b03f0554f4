import * as messages from '@fjord/protocol';
import {
  type AlterConfigsRequest,
  API_CODEC_LIST,
  ApiKey,
  type CreateTopicsRequest,
  type DeleteTopicsRequest,
  type DescribeConfigsRequest,
  type FetchRequest,
  type ListOffsetsRequest,
  type MetadataRequest,
  type OffsetCommitRequest,
  type OffsetFetchRequest,
  type ProduceRequest,
} from '@fjord/protocol';
import { listOffsetsPartitionError, producePartitionError } from './handlers/partitionErrors.js';

/**
 * The response a request gets when it cannot be served as a whole (an unexpected exception in its
 * handler), as Kafka's `AbstractRequest.getErrorResponse`: every element the request names carries
 * the error (each partition of a Produce, each topic of a Metadata, …), otherwise the top-level
 * error code. `undefined` when the API's response cannot say anything (the caller closes).
 */
export function errorResponseBody(
  apiKey: number,
  apiVersion: number,
  request: unknown,
  errorCode: number,
): Record<string, unknown> | undefined {
  const shaped = shapedByRequest(apiKey, apiVersion, request, errorCode);
  if (shaped) return shaped;
  const codec = API_CODEC_LIST[apiKey];
  if (!codec?.encodeResponse[apiVersion]) return undefined;
  const makeDefault = (messages as unknown as Record<string, unknown>)[`default${codec.name}Response`] as
    | (() => Record<string, unknown>)
    | undefined;
  const body = makeDefault ? makeDefault() : {};
  if ('errorCode' in body) body.errorCode = errorCode;
  return body;
}

/** Per-API answers for the requests whose responses carry the error per topic or partition. */
function shapedByRequest(
  apiKey: number,
  apiVersion: number,
  request: unknown,
  errorCode: number,
): Record<string, unknown> | undefined {
  if (request === undefined) return undefined;
  switch (apiKey) {
    case ApiKey.Produce: {
      const req = request as ProduceRequest;
      return {
        throttleTimeMs: 0,
        responses: req.topicData.map((t) => ({
          name: t.name,
          partitionResponses: t.partitionData.map((p) => producePartitionError(p.index, errorCode)),
        })),
      };
    }
    case ApiKey.Fetch: {
      // Kafka: the top-level error (v7+) and, below v13, the same error on every partition.
      const req = request as FetchRequest;
      return {
        throttleTimeMs: 0,
        errorCode,
        sessionId: 0,
        responses:
          apiVersion >= 13
            ? []
            : req.topics.map((t) => ({
                topic: t.topic,
                topicId: t.topicId,
                partitions: t.partitions.map((p) => ({
                  partitionIndex: p.partition,
                  errorCode,
                  highWatermark: -1n,
                  lastStableOffset: -1n,
                  logStartOffset: -1n,
                  abortedTransactions: null,
                  records: null,
                })),
              })),
      };
    }
    case ApiKey.ListOffsets: {
      const req = request as ListOffsetsRequest;
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => listOffsetsPartitionError(p.partitionIndex, errorCode)),
        })),
      };
    }
    case ApiKey.Metadata: {
      const req = request as MetadataRequest;
      return {
        throttleTimeMs: 0,
        brokers: [],
        topics: (req.topics ?? []).map((t) => ({
          errorCode,
          name: t.name,
          topicId: t.topicId,
          isInternal: false,
          partitions: [],
        })),
      };
    }
    case ApiKey.OffsetCommit: {
      const req = request as OffsetCommitRequest;
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })),
        })),
      };
    }
    case ApiKey.OffsetFetch: {
      const req = request as OffsetFetchRequest;
      if (apiVersion >= 8)
        return {
          throttleTimeMs: 0,
          topics: [],
          groups: req.groups.map((g) => ({ groupId: g.groupId, topics: [], errorCode })),
        };
      return {
        throttleTimeMs: 0,
        errorCode,
        groups: [],
        topics: (req.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) => ({
            partitionIndex,
            committedOffset: -1n,
            metadata: null,
            errorCode,
          })),
        })),
      };
    }
    case ApiKey.CreateTopics: {
      const req = request as CreateTopicsRequest;
      return {
        throttleTimeMs: 0,
        topics: req.topics.map((t) => ({
          name: t.name,
          topicId: '00000000-0000-0000-0000-000000000000',
          errorCode,
          errorMessage: null,
          topicConfigErrorCode: 0,
          numPartitions: -1,
          replicationFactor: -1,
          configs: null,
        })),
      };
    }
    case ApiKey.DeleteTopics: {
      const req = request as DeleteTopicsRequest;
      const names = apiVersion >= 6 ? req.topics.map((t) => t.name) : req.topicNames;
      return {
        throttleTimeMs: 0,
        responses: names.map((name) => ({ name, errorCode })),
      };
    }
    case ApiKey.DescribeConfigs: {
      const req = request as DescribeConfigsRequest;
      return {
        throttleTimeMs: 0,
        results: req.resources.map((r) => ({
          errorCode,
          errorMessage: null,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          configs: [],
        })),
      };
    }
    case ApiKey.AlterConfigs:
    case ApiKey.IncrementalAlterConfigs: {
      const req = request as AlterConfigsRequest;
      return {
        throttleTimeMs: 0,
        responses: req.resources.map((r) => ({
          errorCode,
          errorMessage: null,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
        })),
      };
    }
    default:
      return undefined;
  }
}
