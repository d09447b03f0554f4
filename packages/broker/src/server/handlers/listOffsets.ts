import { AclOperation, ResourceType } from '@fjord/metadata';
import {
  ApiKey,
  ErrorCode,
  type ListOffsetsResponseListOffsetsPartitionResponseInput,
} from '@fjord/protocol';
import type { Partition } from '../../replica/Partition.js';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';
import { filterAuthorized } from '../RequestAuthorizer.js';
import { listOffsetsPartitionError } from './partitionErrors.js';

const LATEST = -1n;
const EARLIEST = -2n;
const MAX_TIMESTAMP = -3n;

/** The offset a consumer should start from for a timestamp query, as Kafka computes it. */
function lookup(
  p: Partition,
  timestamp: bigint,
  readCommitted: boolean,
): { offset: bigint; timestamp: bigint } {
  // read_committed consumers see up to the last stable offset (isolation level 1, v2+).
  if (timestamp === LATEST)
    return { offset: BigInt(readCommitted ? p.lastStableOffset : p.highWatermark), timestamp: -1n };
  if (timestamp === EARLIEST) return { offset: BigInt(p.log.logStartOffset), timestamp: -1n };
  if (timestamp === MAX_TIMESTAMP) {
    const max = p.log.maxTimestamp();
    return max.offset < 0
      ? { offset: -1n, timestamp: -1n }
      : { offset: BigInt(max.offset), timestamp: BigInt(max.timestamp) };
  }
  // The first record at or after the timestamp, below the high watermark or LSO (record level, any codec).
  const found = p.log.offsetForTimestamp(
    Number(timestamp),
    readCommitted ? p.lastStableOffset : p.highWatermark,
  );
  return found
    ? { offset: BigInt(found.offset), timestamp: BigInt(found.timestamp) }
    : { offset: -1n, timestamp: -1n };
}

export const listOffsetsHandler = defineHandler({
  apiKey: ApiKey.ListOffsets,
  minVersion: 0,
  maxVersion: 8,
  handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    const image = b.metadata.image;
    const describable = filterAuthorized(
      ctx,
      AclOperation.DESCRIBE,
      ResourceType.TOPIC,
      req.topics.map((t) => t.name),
    );
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((rp): ListOffsetsResponseListOffsetsPartitionResponseInput => {
          const base = {
            partitionIndex: rp.partitionIndex,
            oldStyleOffsets: [] as bigint[],
            timestamp: -1n,
            offset: -1n,
            leaderEpoch: -1,
          };
          if (!describable.has(t.name))
            return listOffsetsPartitionError(rp.partitionIndex, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          const p = b.replicas.leaderFor(image, t.name, rp.partitionIndex, rp.currentLeaderEpoch);
          if (typeof p === 'number') return listOffsetsPartitionError(rp.partitionIndex, p);
          const { offset, timestamp } = lookup(
            p,
            rp.timestamp,
            ctx.apiVersion >= 2 && req.isolationLevel === 1,
          );
          // v0 answers with a list of offsets; v1+ with one offset and its timestamp.
          if (ctx.apiVersion === 0)
            return { ...base, errorCode: ErrorCode.NONE, oldStyleOffsets: offset >= 0n ? [offset] : [] };
          return {
            ...base,
            errorCode: ErrorCode.NONE,
            offset,
            timestamp,
            leaderEpoch: offset >= 0n && ctx.apiVersion >= 4 ? p.leaderEpoch : -1,
          };
        }),
      })),
    };
  },
});
