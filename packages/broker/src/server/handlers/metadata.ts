import { AclOperation, type MetadataImage, ResourceType, validateTopicName } from '@fjord/metadata';
import {
  ApiKey,
  ErrorCode,
  type MetadataResponseMetadataResponseTopicInput,
  ZERO_UUID,
} from '@fjord/protocol';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';
import { authorize, authorizeCluster, authorizedOperations } from '../RequestAuthorizer.js';

export const INTERNAL_TOPICS = new Set(['__consumer_offsets', '__transaction_state']);

/** Brokers as reachable through the listener the client came in on. */
export function brokersFor(image: MetadataImage, listenerName: string) {
  const out: { nodeId: number; host: string; port: number; rack: string | null }[] = [];
  for (const b of image.liveBrokers()) {
    const ep = b.endpoints.find((e) => e.name === listenerName) ?? b.endpoints[0];
    if (ep) out.push({ nodeId: b.brokerId, host: ep.host, port: ep.port, rack: b.rack });
  }
  return out.sort((a, b) => a.nodeId - b.nodeId);
}

function describeTopic(image: MetadataImage, name: string): MetadataResponseMetadataResponseTopicInput {
  const topic = image.topic(name)!;
  return {
    errorCode: ErrorCode.NONE,
    name,
    topicId: topic.topicId,
    isInternal: INTERNAL_TOPICS.has(name),
    partitions: topic.partitions.map((p) => {
      const offline = p.replicas.filter((r) => image.brokers.get(r)?.fenced !== false);
      return {
        errorCode: p.leader < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
        partitionIndex: p.partition,
        leaderId: p.leader,
        leaderEpoch: p.leaderEpoch,
        replicaNodes: [...p.replicas],
        isrNodes: [...p.isr],
        offlineReplicas: offline,
      };
    }),
  };
}

/** How long a Metadata answer may wait for the auto-creation it started (well inside clients' request timeouts). */
const AUTO_CREATION_ANSWER_WAIT_MS = 1000;

function settledOrAfter(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([p, elapsed]).finally(() => clearTimeout(timer));
}

export const metadataHandler = defineHandler({
  apiKey: ApiKey.Metadata,
  minVersion: 0,
  maxVersion: 12,
  async handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    let image = b.metadata.image;
    // v0 has no null: an empty list meant "all topics" then.
    const all = req.topics === null || (ctx.apiVersion === 0 && req.topics.length === 0);
    const topics: MetadataResponseMetadataResponseTopicInput[] = [];
    if (all) {
      // Topics the client may not describe are left out without a word (Kafka does not disclose them).
      for (const name of [...image.topicsByName.keys()].sort())
        if (authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name, false))
          topics.push(describeTopic(image, name));
    } else {
      // v0-v3 have no flag: those versions always allowed it (when the broker does).
      const autoCreate = b.config.autoCreateTopics && (ctx.apiVersion < 4 || req.allowAutoTopicCreation);
      const noTopic = (name: string, errorCode: number): MetadataResponseMetadataResponseTopicInput => ({
        errorCode,
        name,
        topicId: ZERO_UUID,
        isInternal: INTERNAL_TOPICS.has(name),
        partitions: [],
      });
      // Missing topics to auto-create, answered once the creations have been started.
      const creating: { slot: number; name: string }[] = [];
      for (const t of req.topics!) {
        let name = t.name;
        if (name === null) {
          const byId = image.topicsById.get(t.topicId);
          if (!byId) {
            topics.push({
              errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
              name: null,
              topicId: t.topicId,
              partitions: [],
            });
            continue;
          }
          name = byId.name;
        }
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name)) {
          topics.push({
            errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            // By id, the id is not secret but the name is; by name, no id is revealed.
            name: t.name === null ? null : name,
            topicId: t.name === null ? t.topicId : ZERO_UUID,
            isInternal: false,
            partitions: [],
          });
          continue;
        }
        if (image.topic(name)) {
          topics.push(describeTopic(image, name));
          continue;
        }
        if (
          autoCreate &&
          !authorizeCluster(ctx, AclOperation.CREATE, false) &&
          !authorize(ctx, AclOperation.CREATE, ResourceType.TOPIC, name)
        ) {
          topics.push(noTopic(name, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
          continue;
        }
        const invalid = validateTopicName(name) !== undefined;
        if (autoCreate && !invalid && !INTERNAL_TOPICS.has(name)) {
          creating.push({ slot: topics.length, name });
          topics.push(noTopic(name, ErrorCode.LEADER_NOT_AVAILABLE));
          continue;
        }
        topics.push({
          ...noTopic(
            name,
            invalid ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          ),
          isInternal: false,
        });
      }
      // Kafka's AutoTopicCreationManager: one CreateTopics for them all, in the background; the
      // client is answered now and asks again (LEADER_NOT_AVAILABLE is retriable everywhere).
      if (creating.length > 0) {
        const { answers, settled } = b.autoTopicCreation.createTopics(creating.map((c) => c.name));
        for (const { slot, name } of creating) topics[slot]!.errorCode = answers.get(name)!;
        // Unlike Kafka, the answer waits a moment for the creation: clients with a short metadata
        // retry budget (sarama: 3 × 250 ms) then get the topic at once when the controller is quick.
        await settledOrAfter(settled, AUTO_CREATION_ANSWER_WAIT_MS);
        image = b.metadata.image;
        for (const { slot, name } of creating)
          if (image.topic(name)) topics[slot] = describeTopic(image, name);
      }
    }
    if (ctx.apiVersion >= 8 && req.includeTopicAuthorizedOperations)
      for (const t of topics)
        if (t.errorCode === ErrorCode.NONE && t.name)
          t.topicAuthorizedOperations = authorizedOperations(ctx, ResourceType.TOPIC, t.name);
    const clusterAuthorizedOperations =
      ctx.apiVersion >= 8 && ctx.apiVersion <= 10 && req.includeClusterAuthorizedOperations
        ? authorizeCluster(ctx, AclOperation.DESCRIBE)
          ? authorizedOperations(ctx, ResourceType.CLUSTER, 'kafka-cluster')
          : 0
        : -2147483648;
    return {
      throttleTimeMs: 0,
      brokers: brokersFor(image, ctx.connection.listenerName),
      clusterId: b.clusterId,
      controllerId: b.controllerId(),
      topics,
      clusterAuthorizedOperations,
    };
  },
});
