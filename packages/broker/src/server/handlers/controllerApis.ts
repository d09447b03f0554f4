import {
  AclOperation,
  FencedControllerError,
  ongoingReassignments as ongoing,
  type QuorumController,
} from '@fjord/metadata';
import {
  ApiKey,
  decodeDefaultPrincipalDataV0,
  decodeRequestHeader,
  decodeResponseFrame,
  ErrorCode,
  Reader,
} from '@fjord/protocol';
import { type ApiKeyNumber, defineHandler } from '../ApiHandler.js';
import type { RequestContext } from '../BrokerServices.js';
import { carriesErrorCode } from '../carriesErrorCode.js';
import { authorizeCluster } from '../RequestAuthorizer.js';
import { code } from './errors.js';

/**
 * The controller's APIs, as KRaft's ControllerApis serves them: broker registration and
 * heartbeats, ISR changes from leaders, producer id blocks, and requests brokers forward on a
 * client's behalf (Envelope). They are answered only by the active controller — any other
 * broker says NOT_CONTROLLER and the sender looks again — and only on the inter-broker
 * listener (KafkaApis enforces that).
 */

const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];
const SECURITY_PROTOCOL_IDS: Record<string, number> = {
  PLAINTEXT: 0,
  SSL: 1,
  SASL_PLAINTEXT: 2,
  SASL_SSL: 3,
};

export function securityProtocolId(name: string): number {
  return SECURITY_PROTOCOL_IDS[name] ?? 0;
}

function active(ctx: RequestContext): QuorumController | undefined {
  return ctx.broker.activeController();
}

/**
 * The controller's work, or the error code to answer with when it could not be done: the lease
 * was lost mid-way (NOT_CONTROLLER: the sender looks for the new controller) or the metadata
 * store is unreachable (REQUEST_TIMED_OUT: the sender retries).
 */
async function orFailure<T>(work: Promise<T>): Promise<T | number> {
  try {
    return await work;
  } catch (e) {
    return e instanceof FencedControllerError ? ErrorCode.NOT_CONTROLLER : ErrorCode.REQUEST_TIMED_OUT;
  }
}

export const brokerRegistrationHandler = defineHandler({
  apiKey: ApiKey.BrokerRegistration,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx: RequestContext) {
    const controller = active(ctx);
    if (!controller) return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, brokerEpoch: -1n };
    const result = await orFailure(
      controller.registerBroker(
        {
          brokerId: req.brokerId,
          clusterId: req.clusterId,
          incarnationId: req.incarnationId,
          endpoints: req.listeners.map((l) => ({
            name: l.name,
            host: l.host,
            port: l.port,
            securityProtocol: SECURITY_PROTOCOLS[l.securityProtocol] ?? 'PLAINTEXT',
          })),
          rack: req.rack,
          logDirs: req.logDirs,
        },
        ctx.broker.now(),
      ),
    );
    if (typeof result === 'number') return { throttleTimeMs: 0, errorCode: result, brokerEpoch: -1n };
    if (!result.ok) return { throttleTimeMs: 0, errorCode: code(result.error), brokerEpoch: -1n };
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, brokerEpoch: BigInt(result.brokerEpoch) };
  },
});

export const brokerHeartbeatHandler = defineHandler({
  apiKey: ApiKey.BrokerHeartbeat,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx: RequestContext) {
    const controller = active(ctx);
    const refused = { throttleTimeMs: 0, isCaughtUp: false, isFenced: true, shouldShutDown: false };
    if (!controller) return { ...refused, errorCode: ErrorCode.NOT_CONTROLLER };
    ctx.broker.heartbeatSeen(req.brokerId, Number(req.brokerEpoch), ctx.connection);
    const result = await orFailure(
      controller.heartbeat(
        {
          brokerId: req.brokerId,
          brokerEpoch: Number(req.brokerEpoch),
          currentMetadataOffset: Number(req.currentMetadataOffset),
          wantFence: req.wantFence,
          wantShutDown: req.wantShutDown,
          offlineLogDirs: req.offlineLogDirs,
        },
        ctx.broker.now(),
      ),
    );
    if (typeof result === 'number') return { ...refused, errorCode: result };
    if (!result.ok) return { ...refused, errorCode: code(result.error) };
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      isCaughtUp: result.isCaughtUp,
      isFenced: result.isFenced,
      shouldShutDown: result.shouldShutDown,
    };
  },
});

export const alterPartitionHandler = defineHandler({
  apiKey: ApiKey.AlterPartition,
  minVersion: 0,
  maxVersion: 3,
  async handle(req, ctx: RequestContext) {
    const controller = active(ctx);
    if (!controller) return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, topics: [] };
    const byId = ctx.apiVersion >= 2;
    const items = req.topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: byId ? { id: t.topicId } : { name: t.topicName },
        partition: p.partitionIndex,
        leaderEpoch: p.leaderEpoch,
        partitionEpoch: p.partitionEpoch,
        newIsr: ctx.apiVersion >= 3 ? p.newIsrWithEpochs.map((b) => b.brokerId) : p.newIsr,
      })),
    );
    const results = await orFailure(controller.alterPartition(req.brokerId, Number(req.brokerEpoch), items));
    if (typeof results === 'number') return { throttleTimeMs: 0, errorCode: results, topics: [] };
    let i = 0;
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      topics: req.topics.map((t) => ({
        topicName: t.topicName,
        topicId: t.topicId,
        partitions: t.partitions.map((p) => {
          const r = results[i++]!;
          if (!r.ok)
            return {
              partitionIndex: p.partitionIndex,
              errorCode: code(r.error),
              leaderId: -1,
              leaderEpoch: -1,
              isr: [],
              partitionEpoch: -1,
            };
          return {
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.NONE,
            leaderId: r.state.leader,
            leaderEpoch: r.state.leaderEpoch,
            isr: [...r.state.isr],
            partitionEpoch: r.state.partitionEpoch,
          };
        }),
      })),
    };
  },
});

export const allocateProducerIdsHandler = defineHandler({
  apiKey: ApiKey.AllocateProducerIds,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx: RequestContext) {
    const controller = active(ctx);
    const none = { throttleTimeMs: 0, producerIdStart: -1n, producerIdLen: 0 };
    if (!controller) return { ...none, errorCode: ErrorCode.NOT_CONTROLLER };
    const r = await orFailure(controller.allocateProducerIds(req.brokerId, Number(req.brokerEpoch)));
    if (typeof r === 'number') return { ...none, errorCode: r };
    if (!r.ok) return { ...none, errorCode: code(r.error) };
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      producerIdStart: BigInt(r.start),
      producerIdLen: r.length,
    };
  },
});

export const assignReplicasToDirsHandler = defineHandler({
  apiKey: ApiKey.AssignReplicasToDirs,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx: RequestContext) {
    const controller = active(ctx);
    if (!controller) return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, directories: [] };
    const items = req.directories.flatMap((d) =>
      d.topics.flatMap((t) =>
        t.partitions.map((p) => ({ topicId: t.topicId, partition: p.partitionIndex, directory: d.id })),
      ),
    );
    const results = await orFailure(
      controller.assignReplicasToDirs(req.brokerId, Number(req.brokerEpoch), items),
    );
    if (typeof results === 'number') return { throttleTimeMs: 0, errorCode: results, directories: [] };
    let i = 0;
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      directories: req.directories.map((d) => ({
        id: d.id,
        topics: d.topics.map((t) => ({
          topicId: t.topicId,
          partitions: t.partitions.map((p) => {
            const e = results[i++];
            return { partitionIndex: p.partitionIndex, errorCode: e ? code(e) : ErrorCode.NONE };
          }),
        })),
      })),
    };
  },
});

/**
 * A client request another broker forwarded (KIP-590): it runs here through the ordinary
 * handlers, as the client's principal and from the client's address, and its response goes
 * back whole inside the envelope.
 */
export const envelopeHandler = defineHandler({
  apiKey: ApiKey.Envelope,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx: RequestContext) {
    if (!active(ctx)) return { responseData: null, errorCode: ErrorCode.NOT_CONTROLLER };
    const requestData = req.requestData;
    if (!requestData || !req.requestPrincipal)
      return { responseData: null, errorCode: ErrorCode.INVALID_REQUEST };
    let principal: string;
    try {
      const p = decodeDefaultPrincipalDataV0(new Reader(req.requestPrincipal));
      principal = `${p.type}:${p.name}`;
    } catch {
      return { responseData: null, errorCode: ErrorCode.PRINCIPAL_DESERIALIZATION_FAILURE };
    }
    const clientAddress = addressFromBytes(req.clientHostAddress);
    const chunks = await ctx.broker.dispatchLocal(
      {
        ...ctx.connection,
        principal,
        clientAddress,
        sasl: undefined,
        forwarded: true,
        // The forwarded request runs as the client that sent it, never as the broker itself.
        internal: false,
        connectionId: `${ctx.connection.connectionId}-forwarded`,
      },
      requestData,
    );
    if (!chunks) return { responseData: null, errorCode: ErrorCode.INVALID_REQUEST };
    // Without the size prefix, as Kafka puts the response in the envelope.
    const responseData = Buffer.concat(chunks).subarray(4);
    // The lease was lost before the request's write: the forwarding broker's channel retries an
    // envelope that says NOT_CONTROLLER at the next controller, as Kafka's brokers retry a forwarded
    // response carrying it.
    if (lostControllerMidway(requestData, responseData))
      return { responseData: null, errorCode: ErrorCode.NOT_CONTROLLER };
    return { responseData, errorCode: ErrorCode.NONE };
  },
});

function lostControllerMidway(requestData: Buffer, responseData: Buffer): boolean {
  const { apiKey, apiVersion } = decodeRequestHeader(requestData);
  const response = decodeResponseFrame(apiKey as ApiKeyNumber, apiVersion, responseData);
  return carriesErrorCode(response.body, ErrorCode.NOT_CONTROLLER);
}

function addressFromBytes(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    return groups.join(':');
  }
  return '';
}

export function addressToBytes(address: string): Buffer {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (v4) return Buffer.from(v4.slice(1).map(Number));
  return Buffer.alloc(0);
}

export const electLeadersHandler = defineHandler({
  apiKey: ApiKey.ElectLeaders,
  minVersion: 0,
  maxVersion: 2,
  async handle(req, ctx: RequestContext) {
    // ALTER on the cluster, as Kafka's handleElectLeaders; every named partition carries the refusal.
    if (!authorizeCluster(ctx, AclOperation.ALTER))
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        replicaElectionResults: (req.topicPartitions ?? []).map((t) => ({
          topic: t.topic,
          partitionResult: t.partitions.map((partitionId) => ({
            partitionId,
            errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
            errorMessage: null,
          })),
        })),
      };
    const controller = active(ctx);
    if (!controller)
      return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, replicaElectionResults: [] };
    const type = ctx.apiVersion >= 1 && req.electionType === 1 ? 'unclean' : 'preferred';
    // null means every partition of the cluster.
    const wanted =
      req.topicPartitions === null
        ? [...controller.image.topicsByName.values()].flatMap((t) =>
            t.partitions.map((p) => ({ topic: t.name, partition: p.partition })),
          )
        : req.topicPartitions.flatMap((t) =>
            t.partitions.map((partition) => ({ topic: t.topic, partition })),
          );
    const results = await controller.electLeaders(type, wanted);
    const byTopic = new Map<
      string,
      { partitionId: number; errorCode: number; errorMessage: string | null }[]
    >();
    wanted.forEach((w, i) => {
      const r = results[i]!;
      // An "all partitions" election reports only what it changed or could not change.
      if (req.topicPartitions === null && !r.ok && r.error === 'ELECTION_NOT_NEEDED') return;
      const list = byTopic.get(w.topic) ?? [];
      list.push({ partitionId: w.partition, errorCode: r.ok ? 0 : code(r.error), errorMessage: null });
      byTopic.set(w.topic, list);
    });
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      replicaElectionResults: [...byTopic].map(([topic, partitionResult]) => ({ topic, partitionResult })),
    };
  },
});

/**
 * UnregisterBroker (KIP-631), as Kafka's: ALTER on the cluster, forwarded to the controller, which
 * fences the broker if needed and forgets it. The control plane sends it for brokers a scale-in removed.
 */
export const unregisterBrokerHandler = defineHandler({
  apiKey: ApiKey.UnregisterBroker,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx: RequestContext) {
    if (!authorizeCluster(ctx, AclOperation.ALTER))
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: 'Cluster authorization failed.',
      };
    const controller = active(ctx);
    if (!controller) return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: null };
    const result = await orFailure(controller.unregisterBroker(req.brokerId));
    if (typeof result === 'number') return { throttleTimeMs: 0, errorCode: result, errorMessage: null };
    return result === 'ok'
      ? { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null }
      : {
          throttleTimeMs: 0,
          errorCode: ErrorCode.BROKER_ID_NOT_REGISTERED,
          errorMessage: `Broker ID ${req.brokerId} is not currently registered`,
        };
  },
});

export const alterPartitionReassignmentsHandler = defineHandler({
  apiKey: ApiKey.AlterPartitionReassignments,
  minVersion: 0,
  maxVersion: 0,
  async handle(req, ctx: RequestContext) {
    if (!authorizeCluster(ctx, AclOperation.ALTER))
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: 'Cluster authorization failed.',
        responses: [],
      };
    const controller = active(ctx);
    if (!controller)
      return { throttleTimeMs: 0, errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: null, responses: [] };
    const items = req.topics.flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, replicas: p.replicas })),
    );
    const results = await controller.alterReassignments(items);
    let i = 0;
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      responses: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          const r = results[i++]!;
          return {
            partitionIndex: p.partitionIndex,
            errorCode: r.ok ? ErrorCode.NONE : code(r.error),
            errorMessage: r.ok ? null : r.message,
          };
        }),
      })),
    };
  },
});

export const listPartitionReassignmentsHandler = defineHandler({
  apiKey: ApiKey.ListPartitionReassignments,
  minVersion: 0,
  maxVersion: 0,
  handle(req, ctx: RequestContext) {
    if (!authorizeCluster(ctx, AclOperation.DESCRIBE))
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: 'Cluster authorization failed.',
        topics: [],
      };
    const image = ctx.broker.metadata.image;
    const only =
      req.topics === null ? undefined : new Map(req.topics.map((t) => [t.name, t.partitionIndexes]));
    const byTopic = new Map<
      string,
      { partitionIndex: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[] }[]
    >();
    for (const r of ongoing(image, only)) {
      const list = byTopic.get(r.topic) ?? [];
      list.push({
        partitionIndex: r.partition,
        replicas: [...r.replicas],
        addingReplicas: [...r.addingReplicas],
        removingReplicas: [...r.removingReplicas],
      });
      byTopic.set(r.topic, list);
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    };
  },
});
