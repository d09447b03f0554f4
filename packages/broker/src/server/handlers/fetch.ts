import {
  ApiKey,
  batchesToMessageSet,
  ErrorCode,
  type FetchRequest,
  type FetchResponseFetchableTopicResponseInput,
  type FetchResponsePartitionDataInput,
} from '@fjord/protocol';
import type { Partition } from '../../replica/Partition.js';
import { OffsetOutOfRangeError } from '../../storage/PartitionLog.js';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';

interface Wanted {
  readonly topicIndex: number;
  /** Undefined when the topic is unknown; `unknownTopicError` says how to answer then. */
  readonly topic: string | undefined;
  readonly unknownTopicError: number;
  readonly partition: Partition | undefined;
  readonly partitionIndex: number;
  readonly fetchOffset: number;
  readonly maxBytes: number;
  readonly currentLeaderEpoch: number;
}

/** Fetch versions before 4 read legacy message sets: magic 0 before v2, magic 1 for v2–v3. */
function legacyMagic(version: number): 0 | 1 | undefined {
  return version < 2 ? 0 : version < 4 ? 1 : undefined;
}

/**
 * Fetch: reads raw batch bytes from the log up to the high watermark, honouring per-partition
 * and total byte limits (the first batch always whole, KIP-74), long-polls for `minBytes`
 * until `maxWaitMs`, and down-converts for clients older than record batches. Fetch sessions
 * (KIP-227) are not created: responses carry session id 0, which tells clients to keep
 * sending full fetch requests, exactly as Kafka answers when its session cache is full.
 */
export const fetchHandler = defineHandler({
  apiKey: ApiKey.Fetch,
  minVersion: 0,
  maxVersion: 16,
  handle(req, ctx: RequestContext) {
    if (req.sessionId !== 0 || req.sessionEpoch > 0)
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
        sessionId: 0,
        responses: [],
      };
    const { wanted, topics } = resolve(req, ctx);
    const first = readAll(ctx, wanted, topics, req, ctx.apiVersion);
    if (first.bytes >= req.minBytes || req.maxWaitMs <= 0 || first.hasError) return first.response;
    return new Promise((resolvePromise) => {
      const unsubscribe: (() => void)[] = [];
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        for (const u of unsubscribe) u();
        resolvePromise(readAll(ctx, wanted, topics, req, ctx.apiVersion).response);
      };
      const timer = setTimeout(finish, Math.min(req.maxWaitMs, 60_000));
      let accumulated = first.bytes;
      for (const w of wanted) {
        if (!w.partition) continue;
        let seenHw = w.partition.highWatermark;
        unsubscribe.push(
          w.partition.onAdvance(() => {
            const hw = w.partition!.highWatermark;
            if (hw > seenHw && hw > w.fetchOffset) {
              // Byte counts are approximated by the offsets' batch sizes on the next read; any
              // new data past the fetch position wakes a minBytes=1 fetch at once.
              accumulated += 1;
              seenHw = hw;
              if (accumulated >= req.minBytes) finish();
            }
          }),
        );
      }
    });
  },
});

function resolve(req: FetchRequest, ctx: RequestContext) {
  const b = ctx.broker;
  const image = b.metadata.image;
  const byId = ctx.apiVersion >= 13;
  const wanted: Wanted[] = [];
  const topics: FetchResponseFetchableTopicResponseInput[] = [];
  req.topics.forEach((t, topicIndex) => {
    const topic = byId ? image.topicsById.get(t.topicId) : image.topic(t.topic);
    topics.push({ topic: topic?.name ?? t.topic, topicId: topic?.topicId ?? t.topicId, partitions: [] });
    for (const p of t.partitions) {
      const partition = topic ? b.replicas.get(topic.name, p.partition) : undefined;
      wanted.push({
        topicIndex,
        topic: topic?.name,
        unknownTopicError: byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        partition,
        partitionIndex: p.partition,
        fetchOffset: Number(p.fetchOffset),
        maxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch,
      });
    }
  });
  return { wanted, topics };
}

function readAll(
  ctx: RequestContext,
  wanted: readonly Wanted[],
  topicsTemplate: readonly FetchResponseFetchableTopicResponseInput[],
  req: FetchRequest,
  version: number,
) {
  const topics = topicsTemplate.map((t) => ({ ...t, partitions: [] as FetchResponsePartitionDataInput[] }));
  let remaining = version >= 3 ? req.maxBytes : Number.MAX_SAFE_INTEGER;
  let bytes = 0;
  let hasError = false;
  const magic = legacyMagic(version);
  const image = ctx.broker.metadata.image;
  for (const w of wanted) {
    const out: FetchResponsePartitionDataInput = {
      partitionIndex: w.partitionIndex,
      errorCode: ErrorCode.NONE,
      highWatermark: -1n,
      lastStableOffset: -1n,
      logStartOffset: -1n,
      abortedTransactions: version >= 4 ? [] : null,
      preferredReadReplica: -1,
      records: null,
    };
    topics[w.topicIndex]!.partitions.push(out);
    // Leadership is checked on every read: it may have moved while the fetch waited.
    const p =
      w.topic === undefined
        ? w.unknownTopicError
        : ctx.broker.replicas.leaderFor(image, w.topic, w.partitionIndex, w.currentLeaderEpoch);
    if (typeof p === 'number') {
      out.errorCode = p;
      hasError = true;
      continue;
    }
    const hw = p.highWatermark;
    out.highWatermark = BigInt(hw);
    out.lastStableOffset = BigInt(hw);
    out.logStartOffset = BigInt(p.log.logStartOffset);
    try {
      // Once the total limit is spent, later partitions still get their metadata but no data,
      // except that the very first partition may exceed the limit with one batch (KIP-74).
      const limit = Math.min(w.maxBytes, remaining);
      if (limit <= 0 && bytes > 0) continue;
      let data = p.log.read(w.fetchOffset, Math.max(limit, 1), hw);
      if (data && magic !== undefined) data = batchesToMessageSet(data, magic, BigInt(w.fetchOffset));
      if (data && data.length > 0) {
        out.records = data;
        bytes += data.length;
        remaining -= data.length;
      } else out.records = Buffer.alloc(0);
    } catch (e) {
      if (!(e instanceof OffsetOutOfRangeError)) throw e;
      out.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
      hasError = true;
    }
  }
  return {
    response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses: topics },
    bytes,
    hasError,
  };
}
