import { type MetadataImage, validateTopicName } from '@fjord/metadata';
import { ApiKey, ErrorCode, type MetadataResponseMetadataResponseTopicInput } from '@fjord/protocol';
import { defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';

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
      for (const name of [...image.topicsByName.keys()].sort()) topics.push(describeTopic(image, name));
    } else {
      const autoCreate = b.config.autoCreateTopics && (ctx.apiVersion < 4 || req.allowAutoTopicCreation);
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
        if (
          !image.topic(name) &&
          validateTopicName(name) === undefined &&
          autoCreate &&
          !INTERNAL_TOPICS.has(name)
        ) {
          image = await b.ensureTopic(name);
        }
        if (image.topic(name)) topics.push(describeTopic(image, name));
        else
          topics.push({
            errorCode: validateTopicName(name)
              ? ErrorCode.INVALID_TOPIC_EXCEPTION
              : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            name,
            topicId: '00000000-0000-0000-0000-000000000000',
            isInternal: false,
            partitions: [],
          });
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: brokersFor(image, ctx.connection.listenerName),
      clusterId: b.clusterId,
      controllerId: b.controllerId(),
      topics,
    };
  },
});
