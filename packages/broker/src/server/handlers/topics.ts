import {
  AclOperation,
  type ConfigAlteration,
  type ConfigResourceType,
  ConfigSource,
  dynamicInstanceValue,
  INSTANCE_PARTITION_LIMIT_KEY,
  type MetadataImage,
  planAlterConfigs,
  planCreatePartitions,
  planCreateTopic,
  planDeleteTopic,
  ResourceType,
} from '@fjord/metadata';
import { ApiKey, ErrorCode, ZERO_UUID } from '@fjord/protocol';
import { BROKER_CONFIG_BY_NAME } from '../../config/BrokerConfig.js';
import { defineHandler } from '../ApiHandler.js';
import {
  legacyAlterConfigEntries,
  listenerRegistrationRefusal,
  missingTopicConfigError,
} from '../alterConfigsByRelease.js';
import type { RequestContext } from '../BrokerServices.js';
import { authorize, authorizeCluster, filterAuthorized } from '../RequestAuthorizer.js';
import { code } from './errors.js';
import { INTERNAL_TOPICS } from './metadata.js';

/** The instance's partition limit as `image` has it: a dynamic broker config overrides the static one. */
function partitionLimitOf(b: RequestContext['broker'], image: MetadataImage): number | undefined {
  return (
    dynamicInstanceValue(image, b.brokerId, INSTANCE_PARTITION_LIMIT_KEY) ?? b.topicDefaults.partitionLimit
  );
}

export const createTopicsHandler = defineHandler({
  apiKey: ApiKey.CreateTopics,
  minVersion: 0,
  maxVersion: 7,
  async handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    const seen = new Map<string, number>();
    for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    // CREATE on the cluster covers every topic; otherwise CREATE on each topic is needed.
    const creatable = authorizeCluster(ctx, AclOperation.CREATE, false)
      ? new Set(seen.keys())
      : filterAuthorized(ctx, AclOperation.CREATE, ResourceType.TOPIC, seen.keys());
    const configsVisible = filterAuthorized(
      ctx,
      AclOperation.DESCRIBE_CONFIGS,
      ResourceType.TOPIC,
      seen.keys(),
      false,
    );
    const topics = [];
    for (const t of req.topics) {
      const base = {
        name: t.name,
        topicId: ZERO_UUID,
        numPartitions: -1,
        replicationFactor: -1,
        configs: null,
      };
      if (seen.get(t.name)! > 1) {
        topics.push({ ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name.' });
        continue;
      }
      if (!creatable.has(t.name)) {
        topics.push({
          ...base,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: 'Authorization failed.',
          ...(ctx.apiVersion >= 5 ? { topicConfigErrorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED } : {}),
        });
        continue;
      }
      const request = {
        name: t.name,
        numPartitions: t.numPartitions,
        replicationFactor: t.replicationFactor,
        assignments: t.assignments.map((a) => ({ partition: a.partitionIndex, brokerIds: a.brokerIds })),
        configs: t.configs,
      };
      const plan = req.validateOnly
        ? planCreateTopic(b.metadata.image, request, {
            ...b.topicDefaults,
            partitionLimit: partitionLimitOf(b, b.metadata.image),
          })
        : await b.metadataQueue.submit((image) =>
            planCreateTopic(image, request, {
              ...b.topicDefaults,
              partitionLimit: partitionLimitOf(b, image),
            }),
          );
      if (!plan.ok) {
        topics.push({ ...base, errorCode: code(plan.error), errorMessage: plan.message });
        continue;
      }
      const image = b.metadata.image;
      topics.push({
        name: t.name,
        topicId: req.validateOnly ? ZERO_UUID : plan.topicId,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        numPartitions: plan.numPartitions,
        replicationFactor: plan.replicationFactor,
        ...(ctx.apiVersion >= 5 && !configsVisible.has(t.name)
          ? { topicConfigErrorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED }
          : {}),
        configs:
          req.validateOnly || !configsVisible.has(t.name)
            ? []
            : b.configs.describeTopic(image, t.name).map((c) => ({
                name: c.name,
                value: c.value,
                readOnly: c.readOnly,
                configSource: c.source,
                isSensitive: c.sensitive,
              })),
      });
    }
    return { throttleTimeMs: 0, topics };
  },
});

export const deleteTopicsHandler = defineHandler({
  apiKey: ApiKey.DeleteTopics,
  minVersion: 0,
  maxVersion: 6,
  async handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    const wanted =
      ctx.apiVersion >= 6 ? req.topics : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
    const responses = [];
    for (const w of wanted) {
      const name = w.name ?? b.metadata.image.topicsById.get(w.topicId)?.name ?? null;
      if (name === null) {
        responses.push({
          name: null,
          topicId: w.topicId,
          errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
          errorMessage: null,
        });
        continue;
      }
      // By id, a client that may not describe the topic does not learn its name.
      if (w.name === null && !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name)) {
        responses.push({
          name: null,
          topicId: w.topicId,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: null,
        });
        continue;
      }
      if (!authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, name)) {
        responses.push({
          name,
          topicId: w.topicId,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: null,
        });
        continue;
      }
      if (INTERNAL_TOPICS.has(name)) {
        responses.push({
          name,
          topicId: w.topicId,
          errorCode: ErrorCode.INVALID_REQUEST,
          errorMessage: 'Internal topics cannot be deleted.',
        });
        continue;
      }
      if (b.config.values.get('delete.topic.enable') === false) {
        responses.push({
          name,
          topicId: w.topicId,
          errorCode: ErrorCode.TOPIC_DELETION_DISABLED,
          errorMessage: null,
        });
        continue;
      }
      const plan = await b.metadataQueue.submit((image) => planDeleteTopic(image, name));
      responses.push(
        plan.ok
          ? { name, topicId: plan.topicId, errorCode: ErrorCode.NONE, errorMessage: null }
          : { name, topicId: w.topicId, errorCode: code(plan.error), errorMessage: plan.message },
      );
    }
    return { throttleTimeMs: 0, responses };
  },
});

export const createPartitionsHandler = defineHandler({
  apiKey: ApiKey.CreatePartitions,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    const results = [];
    for (const t of req.topics) {
      if (!authorize(ctx, AclOperation.ALTER, ResourceType.TOPIC, t.name)) {
        results.push({
          name: t.name,
          errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
          errorMessage: 'The topic authorization is failed.',
        });
        continue;
      }
      const request = {
        name: t.name,
        count: t.count,
        // As in Kafka, an empty assignment list means "place the new partitions automatically".
        assignments: t.assignments?.length ? t.assignments.map((a) => a.brokerIds) : null,
      };
      const max = b.topicDefaults.maxReplicationFactor;
      const plan = req.validateOnly
        ? planCreatePartitions(b.metadata.image, request, max, partitionLimitOf(b, b.metadata.image))
        : await b.metadataQueue.submit((image) =>
            planCreatePartitions(image, request, max, partitionLimitOf(b, image)),
          );
      results.push(
        plan.ok
          ? { name: t.name, errorCode: ErrorCode.NONE, errorMessage: null }
          : { name: t.name, errorCode: code(plan.error), errorMessage: plan.message },
      );
    }
    return { throttleTimeMs: 0, results };
  },
});

/** Kafka's ConfigResource types. */
const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;

function resourceOf(
  type: number,
  name: string,
  brokerId: number,
): ConfigResourceType | { error: number; message: string } {
  if (type === RESOURCE_TOPIC) return 'topic';
  if (type === RESOURCE_BROKER) {
    if (name !== '' && name !== String(brokerId) && !/^\d+$/.test(name))
      return { error: ErrorCode.INVALID_REQUEST, message: `invalid broker id ${name}` };
    return 'broker';
  }
  return { error: ErrorCode.INVALID_REQUEST, message: `unsupported resource type ${type}` };
}

/** Topic configs need the operation on the topic, broker configs on the cluster (ConfigHelper). */
function configAccessDenied(
  ctx: RequestContext,
  operation: typeof AclOperation.DESCRIBE_CONFIGS | typeof AclOperation.ALTER_CONFIGS,
  kind: ConfigResourceType,
  name: string,
): { errorCode: number; errorMessage: string } | undefined {
  if (kind === 'topic')
    return authorize(ctx, operation, ResourceType.TOPIC, name)
      ? undefined
      : { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.' };
  return authorizeCluster(ctx, operation)
    ? undefined
    : { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' };
}

export const describeConfigsHandler = defineHandler({
  apiKey: ApiKey.DescribeConfigs,
  minVersion: 0,
  maxVersion: 4,
  handle(req, ctx: RequestContext) {
    const b = ctx.broker;
    const image = b.metadata.image;
    const v = ctx.apiVersion;
    return {
      throttleTimeMs: 0,
      results: req.resources.map((r) => {
        const base = { resourceType: r.resourceType, resourceName: r.resourceName };
        const kind = resourceOf(r.resourceType, r.resourceName, b.brokerId);
        if (typeof kind !== 'string')
          return { ...base, errorCode: kind.error, errorMessage: kind.message, configs: [] };
        const denied = configAccessDenied(ctx, AclOperation.DESCRIBE_CONFIGS, kind, r.resourceName);
        if (denied) return { ...base, ...denied, configs: [] };
        if (kind === 'topic' && !image.topic(r.resourceName))
          return {
            ...base,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: `Topic ${r.resourceName} does not exist.`,
            configs: [],
          };
        const entries =
          kind === 'topic'
            ? b.configs.describeTopic(image, r.resourceName)
            : r.resourceName === ''
              ? b.configs.describeClusterDefaults(image)
              : b.configs.describeBroker(image);
        const keys = r.configurationKeys;
        return {
          ...base,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          configs: entries
            .filter((e) => keys === null || keys.length === 0 || keys.includes(e.name))
            .map((e) => ({
              name: e.name,
              value: e.value,
              readOnly: e.readOnly,
              isDefault: v === 0 && e.source === ConfigSource.DEFAULT_CONFIG,
              configSource: e.source,
              isSensitive: e.sensitive,
              synonyms: req.includeSynonyms && v >= 1 ? e.synonyms.map((s) => ({ ...s })) : [],
              configType: e.type,
              documentation: req.includeDocumentation ? e.documentation : null,
            })),
        };
      }),
    };
  },
});

async function alterConfigs(
  ctx: RequestContext,
  resources: { resourceType: number; resourceName: string; alterations: ConfigAlteration[] }[],
  incremental: boolean,
  validateOnly: boolean,
) {
  const b = ctx.broker;
  const responses = [];
  for (const r of resources) {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    const kind = resourceOf(r.resourceType, r.resourceName, b.brokerId);
    if (typeof kind !== 'string') {
      responses.push({ ...base, errorCode: kind.error, errorMessage: kind.message });
      continue;
    }
    const denied = configAccessDenied(ctx, AclOperation.ALTER_CONFIGS, kind, r.resourceName);
    if (denied) {
      responses.push({ ...base, ...denied });
      continue;
    }
    const listenerRefusal =
      kind === 'broker'
        ? listenerRegistrationRefusal(
            b.config.kafkaVersion,
            r.alterations.map((a) => a.name),
          )
        : undefined;
    if (listenerRefusal) {
      responses.push({ ...base, ...listenerRefusal });
      continue;
    }
    const isStaticBrokerKey = (name: string) => BROKER_CONFIG_BY_NAME.has(name);
    const plan = validateOnly
      ? planAlterConfigs(
          b.metadata.image,
          kind,
          r.resourceName,
          r.alterations,
          incremental,
          isStaticBrokerKey,
        )
      : await b.metadataQueue.submit((image) =>
          planAlterConfigs(image, kind, r.resourceName, r.alterations, incremental, isStaticBrokerKey),
        );
    if (plan.ok) {
      responses.push({ ...base, errorCode: ErrorCode.NONE, errorMessage: null });
      continue;
    }
    const emulated =
      plan.error === 'UNKNOWN_TOPIC_OR_PARTITION' && kind === 'topic'
        ? missingTopicConfigError(b.config.kafkaVersion, r.resourceName)
        : undefined;
    responses.push({ ...base, ...(emulated ?? { errorCode: code(plan.error), errorMessage: plan.message }) });
  }
  return responses;
}

export const alterConfigsHandler = defineHandler({
  apiKey: ApiKey.AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx: RequestContext) {
    const release = ctx.broker.config.kafkaVersion;
    const resources = req.resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      alterations: legacyAlterConfigEntries(r.configs, release).map((c) => ({
        name: c.name,
        op: 0 as const,
        value: c.value,
      })),
    }));
    return { throttleTimeMs: 0, responses: await alterConfigs(ctx, resources, false, req.validateOnly) };
  },
});

export const incrementalAlterConfigsHandler = defineHandler({
  apiKey: ApiKey.IncrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx: RequestContext) {
    const resources = req.resources.map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      alterations: r.configs.map((c) => ({
        name: c.name,
        op: c.configOperation as 0 | 1 | 2 | 3,
        value: c.value,
      })),
    }));
    for (const r of resources) {
      const bad = r.alterations.find((a) => a.op < 0 || a.op > 3);
      if (bad)
        return {
          throttleTimeMs: 0,
          responses: resources.map((x) => ({
            resourceType: x.resourceType,
            resourceName: x.resourceName,
            errorCode: ErrorCode.INVALID_REQUEST,
            errorMessage: `unknown operation ${bad.op}`,
          })),
        };
    }
    return { throttleTimeMs: 0, responses: await alterConfigs(ctx, resources, true, req.validateOnly) };
  },
});
