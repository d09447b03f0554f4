import { AclOperation, ResourceType } from '@fjord/metadata';
import {
  ApiKey,
  batchesToMessageSet,
  ErrorCode,
  type FetchRequest,
  type FetchResponseFetchableTopicResponseInput,
  type FetchResponseInput,
  type FetchResponsePartitionDataInput,
  RecordBatchHeader,
  ZERO_UUID,
} from '@fjord/protocol';
import type { TrafficMetrics } from '../../metrics/TrafficMetrics.js';
import type { Partition } from '../../replica/Partition.js';
import { KafkaStorageError, OffsetOutOfRangeError } from '../../storage/errors.js';
import type { ReadBufferPool } from '../../storage/ReadBufferPool.js';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';
import { type FetchSession, partitionKey, type SessionPartition } from '../FetchSessionCache.js';
import { quotaClient } from '../QuotaClient.js';
import { authorizeCluster, filterAuthorized } from '../RequestAuthorizer.js';

const EMPTY_RECORDS = Buffer.alloc(0);

/** Fetch versions before 4 read legacy message sets: magic 0 before v2, magic 1 for v2–v3. */
function legacyMagic(version: number): 0 | 1 | undefined {
  return version < 2 ? 0 : version < 4 ? 1 : undefined;
}

/** One partition to read. `topic` is undefined when the client named a topic we do not know. */
interface Wanted extends SessionPartition {
  readonly known: boolean;
}

const sessionKeyOf = (p: { topic: string; topicId: string; partition: number }, byId: boolean) =>
  partitionKey(byId ? p.topicId : p.topic, p.partition);

/**
 * Fetch: reads raw batch bytes from the log up to the high watermark, honouring per-partition
 * and total byte limits (the first batch always whole, KIP-74), long-polls for `minBytes`
 * until `maxWaitMs`, down-converts for clients older than record batches, and keeps
 * incremental fetch sessions (KIP-227) for clients that open them.
 */
export const fetchHandler = defineHandler({
  apiKey: ApiKey.Fetch,
  minVersion: 0,
  maxVersion: 16,
  handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    const now = b.now();
    const byId = ctx.apiVersion >= 13;
    const replicaId = ctx.apiVersion >= 15 ? req.replicaState.replicaId : req.replicaId;
    // Followers (replica id ≥ 0) fetch sessionless here; consumers may open sessions.
    const lookup =
      ctx.apiVersion >= 7 && replicaId < 0
        ? b.fetchSessions.lookup(req.sessionId, req.sessionEpoch, now)
        : { kind: 'sessionless' as const };
    if (lookup.kind === 'error')
      return { throttleTimeMs: 0, errorCode: lookup.errorCode, sessionId: 0, responses: [] };

    let session: FetchSession | undefined;
    let wanted: Wanted[];
    if (lookup.kind === 'incremental') {
      session = lookup.session;
      for (const w of requested(req, ctx)) {
        // An update changes what the client wants; what it was last told stays remembered.
        const key = sessionKeyOf(w, byId);
        const old = session.partitions.get(key);
        session.partitions.set(
          key,
          old
            ? { ...w, lastHighWatermark: old.lastHighWatermark, lastLogStartOffset: old.lastLogStartOffset }
            : w,
        );
      }
      for (const f of req.forgottenTopicsData) {
        const topic = byId ? f.topicId : f.topic;
        for (const p of f.partitions) session.partitions.delete(partitionKey(topic, p));
      }
      session.epoch = session.epoch >= 0x7fffffff ? 1 : session.epoch + 1;
      wanted = [...session.partitions.values()].map((p) => ({
        ...p,
        known: b.metadata.image.topic(p.topic) !== undefined,
      }));
    } else {
      wanted = requested(req, ctx);
      if (lookup.kind === 'new')
        session = b.fetchSessions.create(
          wanted.map((w) => [sessionKeyOf(w, byId), { ...w }] as const),
          now,
        );
    }

    // Consumers need READ on each topic; followers (replica id >= 0) CLUSTER_ACTION on the cluster.
    const fromFollower = replicaId >= 0;
    const readable = fromFollower
      ? authorizeCluster(ctx, AclOperation.CLUSTER_ACTION)
        ? undefined
        : new Set<string>()
      : filterAuthorized(
          ctx,
          AclOperation.READ,
          ResourceType.TOPIC,
          wanted.filter((w) => w.known || !byId).map((w) => w.topic),
        );
    // Consumers' byte-rate quotas bound one fetch to what the quota window allows.
    const maxBytes = fromFollower ? undefined : b.quotas.maxFetchBytes(b.metadata.image, quotaClient(ctx));
    const read = () => readAll(ctx, wanted, req, replicaId, readable, maxBytes);
    const respond = (result: FetchRead) => {
      // The response's record data stays in the read buffers until it is written.
      const afterWrite = ctx.onResponseWritten ?? [];
      afterWrite.push(() => giveBack(b.readBuffers, result));
      ctx.onResponseWritten = afterWrite;
      if (!fromFollower) {
        // Over quota: no data (its bytes are not counted), only the throttle time (as Kafka).
        const throttle = b.quotas.recordFetch(b.metadata.image, quotaClient(ctx), result.bytes, b.now());
        if (throttle > 0) {
          ctx.throttleTimeMs = throttle;
          const sessionId = lookup.kind === 'incremental' ? session!.id : 0;
          return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId, responses: [] };
        }
      }
      const traffic = b.metrics?.traffic;
      if (traffic) countFetched(traffic, result.partitions, wanted, fromFollower);
      return shape(result.partitions, wanted, session, lookup.kind === 'incremental', byId);
    };
    const readCommitted = ctx.apiVersion >= 4 && req.isolationLevel === 1 && !fromFollower;
    const park = (first: FetchRead): FetchResponseInput | Promise<FetchResponseInput> => {
      if (first.bytes >= req.minBytes || req.maxWaitMs <= 0 || first.hasError) return respond(first);
      giveBack(b.readBuffers, first);
      return new Promise<FetchResponseInput>((resolve, reject) => {
        const unsubscribe: (() => void)[] = [];
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          for (const u of unsubscribe) u();
          // A timer callback must not throw: a failed re-read fails this request (and closes
          // its connection) instead of the process.
          try {
            const again = read();
            if (again instanceof Promise) again.then((r) => resolve(respond(r)), reject);
            else resolve(respond(again));
          } catch (e) {
            reject(e);
          }
        };
        const timer = setTimeout(finish, Math.min(req.maxWaitMs, 60_000));
        for (const w of wanted) {
          const partition = w.known ? b.replicas.get(w.topic, w.partition) : undefined;
          if (!partition) continue;
          // New data past the fetch position wakes the fetch (committed data for consumers, any
          // for followers); its bytes are counted on the re-read. So does losing leadership.
          unsubscribe.push(
            partition.onAdvance(() => {
              const end =
                replicaId >= 0
                  ? partition.log.logEndOffset
                  : readCommitted
                    ? partition.lastStableOffset
                    : partition.highWatermark;
              if (end > w.fetchOffset || !partition.isLeader) finish();
            }),
          );
        }
      });
    };
    const first = read();
    return first instanceof Promise ? first.then(park) : park(first);
  },
});

/** What one pass over the wanted partitions read, and the pooled buffers its data lies in. */
interface FetchRead {
  readonly partitions: FetchResponsePartitionDataInput[];
  readonly bytes: number;
  readonly hasError: boolean;
  readonly buffers: Buffer[];
}

function giveBack(pool: ReadBufferPool, read: FetchRead): void {
  for (const buf of read.buffers) pool.give(buf);
  read.buffers.length = 0;
}

/** Bytes out per topic (consumers', or replication for followers) and failed partitions. */
function countFetched(
  traffic: TrafficMetrics,
  results: readonly FetchResponsePartitionDataInput[],
  wanted: readonly Wanted[],
  follower: boolean,
): void {
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    const topic = wanted[i]!.topic;
    if (r.errorCode !== ErrorCode.NONE) traffic.fetchFailed(topic);
    const n = r.records?.length ?? 0;
    if (n > 0) traffic.fetched(topic, n, follower);
  }
}

/** The partitions named in the request, resolved against the current metadata. */
function requested(req: FetchRequest, ctx: RequestContext): Wanted[] {
  const image = ctx.broker.metadata.image;
  const byId = ctx.apiVersion >= 13;
  return req.topics.flatMap((t) => {
    const topic = byId ? image.topicsById.get(t.topicId) : image.topic(t.topic);
    return t.partitions.map((p) => ({
      topic: topic?.name ?? t.topic,
      topicId: topic?.topicId ?? t.topicId,
      known: topic !== undefined,
      partition: p.partition,
      fetchOffset: Number(p.fetchOffset),
      maxBytes: p.partitionMaxBytes,
      currentLeaderEpoch: p.currentLeaderEpoch,
      lastFetchedEpoch: p.lastFetchedEpoch,
      lastHighWatermark: -1,
      lastLogStartOffset: -1,
    }));
  });
}

/**
 * `readable`: topics the client may read (undefined: all of them); `maxBytes`: a quota's bound.
 * Partitions are read in order (each one's limit depends on what the ones before it took);
 * synchronously while their data is hot, and from the first cold read on asynchronously.
 */
function readAll(
  ctx: RequestContext,
  wanted: readonly Wanted[],
  req: FetchRequest,
  replicaId: number,
  readable?: ReadonlySet<string>,
  maxBytes = Number.MAX_SAFE_INTEGER,
): FetchRead | Promise<FetchRead> {
  const version = ctx.apiVersion;
  const image = ctx.broker.metadata.image;
  const pool = ctx.broker.readBuffers;
  const now = ctx.broker.now();
  let remaining = Math.min(version >= 3 ? req.maxBytes : Number.MAX_SAFE_INTEGER, maxBytes);
  let bytes = 0;
  let hasError = false;
  const buffers: Buffer[] = [];
  const magic = legacyMagic(version);
  const readCommitted = version >= 4 && req.isolationLevel === 1 && replicaId < 0;
  const partitions: FetchResponsePartitionDataInput[] = [];

  const failed = (out: FetchResponsePartitionDataInput, e: unknown) => {
    if (e instanceof OffsetOutOfRangeError) out.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
    else if (e instanceof KafkaStorageError) out.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
    else throw e;
    out.records = EMPTY_RECORDS;
    hasError = true;
  };
  const took = (out: FetchResponsePartitionDataInput, p: Partition, w: Wanted, read: Buffer | undefined) => {
    let data = read;
    if (data) buffers.push(data);
    if (readCommitted && data && data.length > 0) out.abortedTransactions = abortedIn(p, w.fetchOffset, data);
    if (data && magic !== undefined) data = batchesToMessageSet(data, magic, BigInt(w.fetchOffset));
    if (data && data.length > 0) {
      if (replicaId >= 0) ctx.broker.replicas.recordLeaderReplication(p, data.length, now);
      out.records = data;
      bytes += data.length;
      remaining -= data.length;
    }
  };

  /** Reads partition `w` into `out`; a promise when its data is read off the event loop. */
  const readOne = (w: Wanted, out: FetchResponsePartitionDataInput): Promise<void> | undefined => {
    // Leadership is checked on every read: it may have moved while the fetch waited.
    const p =
      !w.known && version >= 13
        ? ErrorCode.UNKNOWN_TOPIC_ID
        : readable && !readable.has(w.topic)
          ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
          : !w.known
            ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            : ctx.broker.replicas.leaderFor(image, w.topic, w.partition, w.currentLeaderEpoch);
    if (typeof p === 'number') {
      out.errorCode = p;
      hasError = true;
      return undefined;
    }
    // The fetcher's last epoch ends earlier here: its log diverged from ours, and it must
    // truncate to where they agree before reading on (KIP-320 / KIP-595). Where we know nothing
    // of its epoch the offset checks below decide.
    let diverged = false;
    if (version >= 12 && w.lastFetchedEpoch >= 0) {
      const end = p.log.leaderEpochs.endOffsetFor(w.lastFetchedEpoch, p.log.logEndOffset);
      if (end.epoch >= 0 && (end.epoch < w.lastFetchedEpoch || end.endOffset < w.fetchOffset)) {
        out.divergingEpoch = { epoch: end.epoch, endOffset: BigInt(end.endOffset) };
        diverged = true;
        hasError = true; // answered at once, not parked
      }
    }
    // A follower's fetch offset says what its log holds: that may advance the high watermark.
    if (replicaId >= 0 && !diverged)
      ctx.broker.replicas.recordFollowerFetch(p, replicaId, w.fetchOffset, now);
    const hw = p.highWatermark;
    const lso = p.lastStableOffset;
    out.highWatermark = BigInt(hw);
    out.lastStableOffset = BigInt(lso);
    out.logStartOffset = BigInt(p.log.logStartOffset);
    out.records = Buffer.alloc(0);
    if (diverged) return undefined;
    // A reassignment's catch-up over the leader's replication throttle waits (KIP-73).
    if (replicaId >= 0 && ctx.broker.replicas.leaderHoldsBack(p, replicaId, now)) return undefined;
    // Once the total limit is spent, later partitions get their offsets but no data; the very
    // first data may exceed the limit by one batch (KIP-74).
    const limit = Math.min(w.maxBytes, remaining);
    if (limit <= 0 && bytes > 0) return undefined;
    try {
      // Followers read everything the leader has; consumers only what is committed, and
      // read_committed ones nothing past the oldest open transaction.
      const bound = replicaId >= 0 ? p.log.logEndOffset : readCommitted ? lso : hw;
      const data = p.log.readForFetch(w.fetchOffset, Math.max(limit, 1), bound, pool);
      if (!(data instanceof Promise)) {
        took(out, p, w, data);
        return undefined;
      }
      return data.then(
        (d) => took(out, p, w, d),
        (e: unknown) => failed(out, e),
      );
    } catch (e) {
      failed(out, e);
      return undefined;
    }
  };

  const from = (i: number): FetchRead | Promise<FetchRead> => {
    for (; i < wanted.length; i++) {
      const out: FetchResponsePartitionDataInput = {
        partitionIndex: wanted[i]!.partition,
        errorCode: ErrorCode.NONE,
        highWatermark: -1n,
        lastStableOffset: -1n,
        logStartOffset: -1n,
        abortedTransactions: version >= 4 ? [] : null,
        preferredReadReplica: -1,
        // Never null: Kafka sends empty records with an error, and librdkafka cannot parse a null
        // record set (it reads the -1 length as a size to skip and gives up on the response).
        records: EMPTY_RECORDS,
      };
      partitions.push(out);
      const pending = readOne(wanted[i]!, out);
      if (pending) {
        const next = i + 1;
        return pending.then(() => from(next));
      }
    }
    return { partitions, bytes, hasError, buffers };
  };
  return from(0);
}

/**
 * The aborted transactions a read_committed consumer needs for the batches in `data`, which
 * start at `fetchOffset` (Kafka's collectAbortedTransactions up to the fetched data's end).
 */
function abortedIn(p: Partition, fetchOffset: number, data: Buffer) {
  let end = fetchOffset;
  for (let pos = 0; pos < data.length; ) {
    const h = new RecordBatchHeader(data, pos);
    end = Number(h.lastOffset) + 1;
    pos += h.sizeInBytes;
  }
  // Transactions wholly below the log start (retention, DeleteRecords) are forgotten here.
  p.transactions.dropBefore(p.log.logStartOffset);
  return p.transactions
    .abortedIn(fetchOffset, end)
    .map((a) => ({ producerId: a.producerId, firstOffset: BigInt(a.firstOffset) }));
}

/**
 * Groups partition results by topic. In an incremental session only partitions with news are
 * sent: data, an error, or a high watermark / log start offset the client has not seen yet.
 */
function shape(
  results: readonly FetchResponsePartitionDataInput[],
  wanted: readonly Wanted[],
  session: FetchSession | undefined,
  incremental: boolean,
  byId: boolean,
): FetchResponseInput {
  const topics = new Map<string, FetchResponseFetchableTopicResponseInput>();
  results.forEach((r, i) => {
    const w = wanted[i]!;
    const cached = session?.partitions.get(sessionKeyOf(w, byId));
    const hw = Number(r.highWatermark);
    const logStart = Number(r.logStartOffset);
    const news =
      r.errorCode !== 0 ||
      (r.records?.length ?? 0) > 0 ||
      !cached ||
      cached.lastHighWatermark !== hw ||
      cached.lastLogStartOffset !== logStart;
    if (cached) {
      cached.lastHighWatermark = hw;
      cached.lastLogStartOffset = logStart;
    }
    if (incremental && !news) return;
    const key = byId ? w.topicId : w.topic;
    let topic = topics.get(key);
    if (!topic) {
      topic = { topic: w.topic, topicId: w.known ? w.topicId : byId ? w.topicId : ZERO_UUID, partitions: [] };
      topics.set(key, topic);
    }
    topic.partitions.push(r);
  });
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    sessionId: session?.id ?? 0,
    responses: [...topics.values()],
  };
}
