import { AclOperation, ResourceType } from '@fjord/metadata';
import { ApiKey, ErrorCode } from '@fjord/protocol';
import { offsetsPartitionFor } from '../../group/ConsumerOffsetsRecords.js';
import { OFFSETS_TOPIC } from '../../group/ConsumerOffsetsStore.js';
import { TRANSACTION_STATE_TOPIC } from '../../transaction/TransactionStateStore.js';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';
import { authorize, authorizeCluster, authorizedOperations, filterAuthorized } from '../RequestAuthorizer.js';
import { brokersFor } from './metadata.js';
import { offsetFetchPartitionError } from './partitionErrors.js';

/** Group membership and commits need READ on the group (GROUP_AUTHORIZATION_FAILED otherwise). */
function readGroup(ctx: RequestContext, groupId: string): boolean {
  return authorize(ctx, AclOperation.READ, ResourceType.GROUP, groupId);
}
const EMPTY = Buffer.alloc(0);

/**
 * FindCoordinator: the leader of the group's `__consumer_offsets` partition, or (key type 1) of
 * the transactional id's `__transaction_state` partition; the topics are created on first use.
 */
export const findCoordinatorHandler = defineHandler({
  apiKey: ApiKey.FindCoordinator,
  minVersion: 0,
  maxVersion: 6,
  async handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    const keys = ctx.apiVersion >= 4 ? req.coordinatorKeys : [req.key];
    // The coordinators' internal topics are created on first use, as Kafka does.
    const txn = b.config.transactions;
    const image =
      req.keyType === 1
        ? await b.ensureTopic(TRANSACTION_STATE_TOPIC, txn.stateLogPartitions, {
            'cleanup.policy': 'compact',
            'compression.type': 'uncompressed',
            'min.insync.replicas': String(txn.stateLogMinIsr),
            'segment.bytes': String(txn.stateLogSegmentBytes),
            'unclean.leader.election.enable': 'false',
          })
        : await b.ensureTopic(OFFSETS_TOPIC, b.config.offsetsTopicPartitions, {
            'cleanup.policy': 'compact',
            'segment.bytes': String(b.config.values.get('offsets.topic.segment.bytes')),
          });
    const brokers = brokersFor(image, ctx.connection.listenerName);
    const coordinators = keys.map((key) => {
      const denied = (errorCode: number) => ({
        key,
        nodeId: -1,
        host: '',
        port: -1,
        errorCode,
        errorMessage: null,
      });
      if (req.keyType === 0 && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, key))
        return denied(ErrorCode.GROUP_AUTHORIZATION_FAILED);
      if (req.keyType === 1 && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key))
        return denied(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      // Kafka's answer for a coordinator type it does not know (KafkaApis.handleFindCoordinatorRequest).
      if (req.keyType !== 0 && req.keyType !== 1)
        return {
          key,
          nodeId: -1,
          host: '',
          port: -1,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: `Unknown coordinator type ${req.keyType}`,
        };
      const partition =
        req.keyType === 1
          ? image.partition(TRANSACTION_STATE_TOPIC, b.transactionStatePartitionOf(key))
          : image.partition(OFFSETS_TOPIC, offsetsPartitionFor(key, b.config.offsetsTopicPartitions));
      const node = brokers.find((n) => n.nodeId === partition?.leader);
      if (!node)
        return {
          key,
          nodeId: -1,
          host: '',
          port: -1,
          errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE,
          errorMessage: null,
        };
      return {
        key,
        nodeId: node.nodeId,
        host: node.host,
        port: node.port,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
      };
    });
    if (ctx.apiVersion >= 4)
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        errorMessage: null,
        nodeId: 0,
        host: '',
        port: 0,
        coordinators,
      };
    const c = coordinators[0]!;
    return {
      throttleTimeMs: 0,
      errorCode: c.errorCode,
      errorMessage: c.errorMessage,
      nodeId: c.nodeId,
      host: c.host,
      port: c.port,
      coordinators: [],
    };
  },
});

export const joinGroupHandler = defineHandler({
  apiKey: ApiKey.JoinGroup,
  minVersion: 0,
  maxVersion: 9,
  async handle(req, ctx: RequestContext) {
    if (!readGroup(ctx, req.groupId))
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
        generationId: -1,
        protocolType: null,
        protocolName: ctx.apiVersion >= 7 ? null : '',
        leader: '',
        skipAssignment: false,
        memberId: '',
        members: [],
      };
    const notHere = ctx.broker.coordinatorError(req.groupId);
    if (notHere)
      return {
        throttleTimeMs: 0,
        errorCode: notHere,
        generationId: -1,
        protocolType: null,
        protocolName: ctx.apiVersion >= 7 ? null : '',
        leader: '',
        skipAssignment: false,
        memberId: req.memberId,
        members: [],
      };
    const r = await ctx.broker.groups.join({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: ctx.clientId ?? '',
      clientHost: `/${ctx.connection.clientAddress}`,
      sessionTimeoutMs: req.sessionTimeoutMs,
      // v0 has no rebalance timeout: Kafka uses the session timeout.
      rebalanceTimeoutMs: ctx.apiVersion === 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      requireKnownMemberId: ctx.apiVersion >= 4,
    });
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      generationId: r.generationId,
      protocolType: r.protocolType,
      protocolName: r.protocolName ?? (ctx.apiVersion >= 7 ? null : ''),
      leader: r.leader,
      skipAssignment: false,
      memberId: r.memberId,
      members: r.members,
    };
  },
});

export const syncGroupHandler = defineHandler({
  apiKey: ApiKey.SyncGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx: RequestContext) {
    if (!readGroup(ctx, req.groupId))
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
        protocolType: null,
        protocolName: null,
        assignment: EMPTY,
      };
    const notHere = ctx.broker.coordinatorError(req.groupId);
    if (notHere)
      return {
        throttleTimeMs: 0,
        errorCode: notHere,
        protocolType: null,
        protocolName: null,
        assignment: EMPTY,
      };
    const r = await ctx.broker.groups.sync(req);
    return {
      throttleTimeMs: 0,
      errorCode: r.errorCode,
      protocolType: r.protocolType,
      protocolName: r.protocolName,
      assignment: r.assignment,
    };
  },
});

export const heartbeatHandler = defineHandler({
  apiKey: ApiKey.Heartbeat,
  minVersion: 0,
  maxVersion: 4,
  handle(req, ctx: RequestContext) {
    if (!readGroup(ctx, req.groupId))
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const notHere = ctx.broker.coordinatorError(req.groupId);
    if (notHere) return { throttleTimeMs: 0, errorCode: notHere };
    return {
      throttleTimeMs: 0,
      errorCode: ctx.broker.groups.heartbeat(
        req.groupId,
        req.memberId,
        req.groupInstanceId,
        req.generationId,
      ),
    };
  },
});

export const leaveGroupHandler = defineHandler({
  apiKey: ApiKey.LeaveGroup,
  minVersion: 0,
  maxVersion: 5,
  handle(req, ctx: RequestContext) {
    if (!readGroup(ctx, req.groupId))
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
    const leaving =
      ctx.apiVersion >= 3 ? req.members : [{ memberId: req.memberId, groupInstanceId: null, reason: null }];
    const notHere = ctx.broker.coordinatorError(req.groupId);
    if (notHere) return { throttleTimeMs: 0, errorCode: notHere, members: [] };
    const r = ctx.broker.groups.leave(req.groupId, leaving);
    if (ctx.apiVersion < 3) return { throttleTimeMs: 0, errorCode: r.members[0] ?? r.topLevel, members: [] };
    return {
      throttleTimeMs: 0,
      errorCode: r.topLevel,
      members: leaving.map((m, i) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        errorCode: r.members[i]!,
      })),
    };
  },
});

export const offsetCommitHandler = defineHandler({
  apiKey: ApiKey.OffsetCommit,
  minVersion: 0,
  maxVersion: 9,
  async handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    const image = b.metadata.image;
    const flat = req.topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.name,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        leaderEpoch: p.committedLeaderEpoch,
        metadata: p.committedMetadata,
      })),
    );
    const groupAllowed = readGroup(ctx, req.groupId);
    const readable = groupAllowed
      ? filterAuthorized(
          ctx,
          AclOperation.READ,
          ResourceType.TOPIC,
          req.topics.map((t) => t.name),
        )
      : new Set<string>();
    const denied = groupAllowed ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.GROUP_AUTHORIZATION_FAILED;
    const known = flat.filter(
      (o) => readable.has(o.topic) && image.partition(o.topic, o.partition) !== undefined,
    );
    const notHere = b.coordinatorError(req.groupId);
    const codes = !groupAllowed
      ? []
      : notHere
        ? known.map(() => notHere)
        : await b.groups.commitOffsets(
            req.groupId,
            ctx.apiVersion === 0 ? -1 : req.generationIdOrMemberEpoch,
            req.memberId,
            req.groupInstanceId,
            known,
          );
    const codeOf = new Map(known.map((o, i) => [`${o.topic}\u0000${o.partition}`, codes[i]!]));
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode:
            codeOf.get(`${t.name}\u0000${p.partitionIndex}`) ??
            (readable.has(t.name) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : denied),
        })),
      })),
    };
  },
});

export const offsetFetchHandler = defineHandler({
  apiKey: ApiKey.OffsetFetch,
  minVersion: 0,
  maxVersion: 9,
  handle(req, ctx: RequestContext) {
    const groups = ctx.broker.groups;
    const notHere = (groupId: string) => ctx.broker.coordinatorError(groupId);
    const fetchGroup = (
      groupId: string,
      requested: readonly { name: string; partitionIndexes: number[] }[] | null,
    ) => {
      // Offsets of topics the client may not describe: left out when it asked for all, refused by name otherwise.
      const describable = filterAuthorized(
        ctx,
        AclOperation.DESCRIBE,
        ResourceType.TOPIC,
        requested?.map((t) => t.name) ?? groups.fetchOffsets(groupId, null).map((r) => r.topic),
        requested !== null,
      );
      const topics = requested?.filter((t) => describable.has(t.name)) ?? null;
      const rows = groups
        .fetchOffsets(
          groupId,
          topics?.map((t) => ({ topic: t.name, partitions: t.partitionIndexes })) ?? null,
        )
        .filter((r) => describable.has(r.topic));
      const byTopic = new Map<
        string,
        {
          partitionIndex: number;
          committedOffset: bigint;
          committedLeaderEpoch: number;
          metadata: string;
          errorCode: number;
        }[]
      >();
      for (const r of rows) {
        const list = byTopic.get(r.topic) ?? [];
        list.push(
          req.requireStable && groups.hasPendingOffset(groupId, r.topic, r.partition)
            ? offsetFetchPartitionError(r.partition, ErrorCode.UNSTABLE_OFFSET_COMMIT)
            : {
                partitionIndex: r.partition,
                committedOffset: r.offset,
                committedLeaderEpoch: r.leaderEpoch,
                metadata: r.metadata,
                errorCode: 0,
              },
        );
        byTopic.set(r.topic, list);
      }
      for (const t of requested ?? [])
        if (!describable.has(t.name))
          byTopic.set(
            t.name,
            t.partitionIndexes.map((partitionIndex) =>
              offsetFetchPartitionError(partitionIndex, ErrorCode.TOPIC_AUTHORIZATION_FAILED),
            ),
          );
      return [...byTopic.entries()].map(([name, partitions]) => ({ name, partitions }));
    };
    const groupDenied = (groupId: string) =>
      !authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId);
    if (ctx.apiVersion >= 8) {
      return {
        throttleTimeMs: 0,
        topics: [],
        groups: req.groups.map((g) => {
          if (groupDenied(g.groupId))
            return { groupId: g.groupId, topics: [], errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
          const errorCode = notHere(g.groupId);
          return { groupId: g.groupId, topics: errorCode ? [] : fetchGroup(g.groupId, g.topics), errorCode };
        }),
      };
    }
    const errorCode = groupDenied(req.groupId) ? ErrorCode.GROUP_AUTHORIZATION_FAILED : notHere(req.groupId);
    // v0 and v1 have no top-level error: a group error goes on every partition asked for.
    if (errorCode && ctx.apiVersion < 2)
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        groups: [],
        topics: (req.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) =>
            offsetFetchPartitionError(partitionIndex, errorCode),
          ),
        })),
      };
    // v0 and v1 have no null topics; v1 and below read offsets the same way here.
    return {
      throttleTimeMs: 0,
      topics: errorCode ? [] : fetchGroup(req.groupId, req.topics),
      errorCode,
      groups: [],
    };
  },
});

export const describeGroupsHandler = defineHandler({
  apiKey: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(req, ctx: RequestContext) {
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((id) => {
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, id))
          return {
            errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
            groupId: id,
            groupState: '',
            protocolType: '',
            protocolData: '',
            members: [],
          };
        const notHere = ctx.broker.coordinatorError(id);
        if (notHere)
          return {
            errorCode: notHere,
            groupId: id,
            groupState: '',
            protocolType: '',
            protocolData: '',
            members: [],
          };
        const d = ctx.broker.groups.describe(id);
        return {
          errorCode: d.errorCode,
          groupId: id,
          groupState: d.state,
          protocolType: d.protocolType,
          protocolData: d.protocol,
          members: d.members,
          ...(ctx.apiVersion >= 3 && req.includeAuthorizedOperations && d.errorCode === ErrorCode.NONE
            ? { authorizedOperations: authorizedOperations(ctx, ResourceType.GROUP, id) }
            : {}),
        };
      }),
    };
  },
});

export const listGroupsHandler = defineHandler({
  apiKey: ApiKey.ListGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(req, ctx: RequestContext) {
    const types = req.typesFilter;
    if (types.length > 0 && !types.some((t) => t.toLowerCase() === 'classic'))
      return { throttleTimeMs: 0, errorCode: 0, groups: [] };
    const clusterDescribe = authorizeCluster(ctx, AclOperation.DESCRIBE, false);
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      // With DESCRIBE on the cluster every group is listed; otherwise those the client may describe.
      groups: ctx.broker.groups
        .list(req.statesFilter)
        .filter(
          (g) =>
            clusterDescribe || authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId, false),
        )
        .map((g) => ({
          groupId: g.groupId,
          protocolType: g.protocolType,
          groupState: g.state,
          groupType: 'classic',
        })),
    };
  },
});

export const deleteGroupsHandler = defineHandler({
  apiKey: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx: RequestContext) {
    const results = [];
    for (const groupId of req.groupsNames)
      results.push({
        groupId,
        errorCode: authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, groupId)
          ? ctx.broker.coordinatorError(groupId) || (await ctx.broker.groups.deleteGroup(groupId))
          : ErrorCode.GROUP_AUTHORIZATION_FAILED,
      });
    return { throttleTimeMs: 0, results };
  },
});

export const offsetDeleteHandler = defineHandler({
  apiKey: ApiKey.OffsetDelete,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx: RequestContext) {
    if (!authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, req.groupId))
      return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
    const readable = filterAuthorized(
      ctx,
      AclOperation.READ,
      ResourceType.TOPIC,
      req.topics.map((t) => t.name),
    );
    const wanted = req.topics
      .filter((t) => readable.has(t.name))
      .flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex })));
    const notHere = ctx.broker.coordinatorError(req.groupId);
    const r = notHere
      ? { topLevel: notHere, codes: [] }
      : await ctx.broker.groups.deleteOffsets(req.groupId, wanted);
    let i = 0;
    return {
      errorCode: r.topLevel,
      throttleTimeMs: 0,
      topics:
        r.topLevel !== 0
          ? []
          : req.topics.map((t) => ({
              name: t.name,
              partitions: t.partitions.map((p) => ({
                partitionIndex: p.partitionIndex,
                errorCode: readable.has(t.name) ? r.codes[i++]! : ErrorCode.TOPIC_AUTHORIZATION_FAILED,
              })),
            })),
    };
  },
});
