import { AclOperation, ResourceType } from '@fjord/metadata';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { TRANSACTION_STATES, type TransactionState } from '../../transaction/TransactionLogRecords.js';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';
import { authorize, filterAuthorized } from '../RequestAuthorizer.js';

const KNOWN_STATES: ReadonlySet<string> = new Set(TRANSACTION_STATES);

/** ListTransactions (KIP-664): the ids this broker coordinates that the caller may DESCRIBE. */
export const listTransactionsHandler = defineHandler({
  apiKey: ApiKey.ListTransactions,
  minVersion: 0,
  maxVersion: 1,
  handle(req, ctx: RequestContext) {
    const states = new Set(req.stateFilters.filter((s) => KNOWN_STATES.has(s)));
    const unknownStateFilters = req.stateFilters.filter((s) => !KNOWN_STATES.has(s));
    const producerIds = new Set(req.producerIdFilters);
    // v1: only transactions running longer than this (-1: any).
    const minDuration = Number(req.durationFilter ?? -1n);
    const now = ctx.broker.now();
    const transactionStates = [];
    for (const t of ctx.broker.transactions.list()) {
      if (states.size > 0 && !states.has(t.state)) continue;
      if (req.stateFilters.length > 0 && states.size === 0) continue;
      if (producerIds.size > 0 && !producerIds.has(t.producerId)) continue;
      if (minDuration >= 0 && (t.startMs < 0 || now - t.startMs < minDuration)) continue;
      if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, t.transactionalId, false))
        continue;
      transactionStates.push({
        transactionalId: t.transactionalId,
        producerId: t.producerId,
        transactionState: t.state,
      });
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates };
  },
});

/** DescribeTransactions (KIP-664): state, producer and partitions of ids this broker coordinates. */
export const describeTransactionsHandler = defineHandler({
  apiKey: ApiKey.DescribeTransactions,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx: RequestContext) {
    const tc = ctx.broker.transactions;
    return {
      throttleTimeMs: 0,
      transactionStates: req.transactionalIds.map((transactionalId) => {
        const empty = {
          transactionalId,
          transactionState: '',
          transactionTimeoutMs: 0,
          transactionStartTimeMs: -1n,
          producerId: -1n,
          producerEpoch: -1,
          topics: [],
        };
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, transactionalId))
          return { ...empty, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
        const owner = tc.ownership(transactionalId);
        if (owner !== ErrorCode.NONE) return { ...empty, errorCode: owner };
        const t = tc.describe(transactionalId);
        if (!t) return { ...empty, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
        // Topics the caller may not describe are left out (Kafka's KafkaApis does the same).
        const describable = filterAuthorized(
          ctx,
          AclOperation.DESCRIBE,
          ResourceType.TOPIC,
          t.partitions.map((p) => p.topic),
        );
        const topics = new Map<string, number[]>();
        for (const p of t.partitions) {
          if (!describable.has(p.topic)) continue;
          const list = topics.get(p.topic) ?? [];
          list.push(p.partition);
          topics.set(p.topic, list);
        }
        return {
          errorCode: ErrorCode.NONE,
          transactionalId,
          transactionState: t.state satisfies TransactionState,
          transactionTimeoutMs: t.timeoutMs,
          transactionStartTimeMs: BigInt(t.startMs),
          producerId: t.producerId,
          producerEpoch: t.producerEpoch,
          topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
        };
      }),
    };
  },
});

/** DescribeProducers (KIP-664): the producers with state in partitions this broker leads (READ on the topic). */
export const describeProducersHandler = defineHandler({
  apiKey: ApiKey.DescribeProducers,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    const readable = filterAuthorized(
      ctx,
      AclOperation.READ,
      ResourceType.TOPIC,
      req.topics.map((t) => t.name),
    );
    const image = b.metadata.image;
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => {
          const error = (errorCode: number) => ({
            partitionIndex,
            errorCode,
            errorMessage: null,
            activeProducers: [],
          });
          if (!readable.has(t.name)) return error(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          const p = b.replicas.leaderFor(image, t.name, partitionIndex);
          if (typeof p === 'number') return error(p);
          return {
            partitionIndex,
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            activeProducers: [...p.producers.entries()].map((e) => ({
              producerId: e.producerId,
              producerEpoch: e.epoch,
              lastSequence: e.lastSequence,
              lastTimestamp: BigInt(e.lastTimestamp),
              coordinatorEpoch: p.transactions.coordinatorEpochOf(e.producerId),
              currentTxnStartOffset: BigInt(p.transactions.firstOffsetOf(e.producerId) ?? -1),
            })),
          };
        }),
      })),
    };
  },
});
