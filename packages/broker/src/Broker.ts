import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  EffectiveConfigs,
  LocalFileMetadataStore,
  MetadataAppendQueue,
  type MetadataImage,
  MetadataPublisher,
  type MetadataStore,
  PostgresMetadataStore,
  type TopicDefaults,
} from '@fjord/metadata';
import {
  API_VERSIONS_BY_RELEASE,
  ApiKey,
  ErrorCode,
  encodeDefaultPrincipalDataV0,
  Writer,
} from '@fjord/protocol';
import type { Logger } from 'pino';
import { ComponentStack, LateBound } from './BrokerComponents.js';
import { brokerConfigDefsFor, type ResolvedBrokerConfig } from './config/BrokerConfig.js';
import { ConsumerOffsetsStore, OFFSETS_TOPIC } from './group/ConsumerOffsetsStore.js';
import { GroupCoordinator } from './group/GroupCoordinator.js';
import { type MetricsServer, serveMetrics, trafficMetricsFor } from './metrics/index.js';
import { type BrokerAddress, BrokerClient } from './network/BrokerClient.js';
import { ConnectionQuotas, connectionLimits } from './network/ConnectionQuotas.js';
import { ListenerAllowlists } from './network/ListenerAllowlists.js';
import { ListenerTlsReloader } from './network/ListenerTlsReloader.js';
import type { ConnectionInfo, FrameResult } from './network/RequestContext.js';
import { RequestMemoryPool } from './network/RequestMemoryPool.js';
import { RequestQueue } from './network/RequestQueue.js';
import { SocketServer } from './network/SocketServer.js';
import { tlsByListener } from './network/TlsContext.js';
import { ProducerIdAllocator } from './producer/ProducerIdAllocator.js';
import { BrokerLifecycleManager } from './quorum/BrokerLifecycleManager.js';
import { ControllerChannel } from './quorum/ControllerChannel.js';
import { ControllerElection } from './quorum/ControllerElection.js';
import { ControllerService } from './quorum/ControllerService.js';
import { InstanceDiskBudget } from './quota/InstanceDiskBudget.js';
import { QuotaManagers } from './quota/QuotaManagers.js';
import { AlterPartitionManager } from './replica/AlterPartitionManager.js';
import { DirectoryAssignmentManager } from './replica/DirectoryAssignmentManager.js';
import { ReplicaManager } from './replica/ReplicaManager.js';
import { authorizerFromConfig } from './security/AuthorizerConfig.js';
import { interBrokerSecurity } from './security/InterBrokerSecurity.js';
import { SaslConfig } from './security/SaslConfig.js';
import { bootstrapScramCredentials } from './security/ScramBootstrap.js';
import { AutoTopicCreationManager } from './server/AutoTopicCreationManager.js';
import { listenersReportedReconfigurable } from './server/alterConfigsByRelease.js';
import type { BrokerServices } from './server/BrokerServices.js';
import { FetchSessionCache } from './server/FetchSessionCache.js';
import { addressToBytes, securityProtocolId } from './server/handlers/controllerApis.js';
import { allHandlers } from './server/handlers/index.js';
import { INTERNAL_TOPICS } from './server/handlers/metadata.js';
import { KafkaApis } from './server/KafkaApis.js';
import { ShardPool } from './shard/ShardPool.js';
import { LogManager } from './storage/LogManager.js';
import { readOrCreateClusterId } from './storage/MetaProperties.js';
import { ReadBufferPool } from './storage/ReadBufferPool.js';
import { TimerScheduler } from './storage/Scheduler.js';
import { TransactionCoordinator } from './transaction/TransactionCoordinator.js';
import { TransactionMarkerChannel } from './transaction/TransactionMarkerChannel.js';
import { TRANSACTION_STATE_TOPIC, TransactionStateStore } from './transaction/TransactionStateStore.js';
import { appendTxnMarkers, type MarkerAppendTarget } from './transaction/TxnMarkerAppender.js';

const METADATA_DIR = '__fjord_metadata';
/** How long start-up waits for the controller to unfence this broker before serving anyway. */
const UNFENCE_WAIT_MS = 30_000;
/** How long an admin change waits for every broker to apply it before it is answered anyway. */
const METADATA_PROPAGATION_WAIT_MS = 3000;

/** Group sessions and rebalance timeouts run on real timers. */
const timerScheduler = new TimerScheduler();

/**
 * A Fjord broker: partitions in `log.dirs`, the Kafka protocol on every listener, a group
 * coordinator for the groups whose `__consumer_offsets` partitions it leads, and replication.
 * Standalone, the metadata log is a local file and this broker is its own controller; in a
 * cluster (`fjord.metadata.database.url`) the metadata log and controller lease live in
 * PostgreSQL, whichever broker holds the lease is the controller, and followers fetch from
 * leaders. This is the composition root; every piece it wires is usable and tested on its own.
 */
export class Broker {
  private constructor(
    readonly config: ResolvedBrokerConfig,
    readonly services: BrokerServices,
    private readonly parts: {
      readonly components: ComponentStack;
      readonly lifecycle: BrokerLifecycleManager;
      readonly metricsServer: MetricsServer | undefined;
    },
    readonly boundPorts: ReadonlyMap<string, number>,
  ) {}

  /**
   * Builds the broker's components with their dependencies, then starts them in order (storage,
   * the metadata image, request handling, listeners, the controller quorum, this broker's
   * registration, background work); `stop` stops them in the reverse order. A failed start-up
   * stops what it had started.
   */
  static async start(config: ResolvedBrokerConfig, log: Logger): Promise<Broker> {
    const components = new ComponentStack();
    try {
      return await Broker.assemble(config, log, components);
    } catch (err) {
      await components.stopAll().catch((e) => log.error({ err: e }, 'stopping after a failed start-up'));
      throw err;
    }
  }

  private static async assemble(
    config: ResolvedBrokerConfig,
    log: Logger,
    components: ComponentStack,
  ): Promise<Broker> {
    const { replica, quorum, groups: groupSettings, network, logMaintenance } = config;
    const firstDir = config.logDirs[0]!;
    mkdirSync(firstDir, { recursive: true });
    const clusterId = readOrCreateClusterId(firstDir, config.clusterId);
    const clustered = config.metadataDatabaseUrl !== null;

    // ---- Build: every component gets its dependencies here; nothing runs yet. ----
    const pgStore = clustered
      ? new PostgresMetadataStore(clusterId, config.nodeId, config.metadataDatabaseUrl!)
      : undefined;
    const store: MetadataStore = pgStore ?? new LocalFileMetadataStore(join(firstDir, METADATA_DIR));
    const metadata = new MetadataPublisher(store);
    const metadataQueue = new MetadataAppendQueue(store, metadata);
    const sasl = new SaslConfig(config.passthrough, config.scramUsers, network.connectionsMaxReauthMs);
    const authorizer = authorizerFromConfig(config);
    // TLS material is loaded (and refused with the key named) before anything else starts.
    const tls = tlsByListener(config.listeners, config.passthrough);
    // How this broker reaches the others' inter-broker listener (TLS, SASL); only a cluster has others.
    const interBrokerListener = config.listeners.find((l) => l.name === config.interBrokerListener)!;
    const peerSecurity = clustered
      ? interBrokerSecurity(interBrokerListener, config.passthrough, tls.get(interBrokerListener.name))
      : undefined;
    const connectionQuotas = new ConnectionQuotas(connectionLimits(config));
    const allowlists = new ListenerAllowlists(
      config.nodeId,
      config.listeners.map((l) => l.name),
      config.passthrough,
    );

    const logs = new LogManager(config.logDirs, log, {
      clusterId,
      nodeId: config.nodeId,
      cleaner: logMaintenance.cleanerEnable ? {} : false,
    });
    const configs = new EffectiveConfigs(
      config.nodeId,
      config.values,
      config.explicit,
      brokerConfigDefsFor(config.kafkaVersion),
      listenersReportedReconfigurable(config.kafkaVersion),
    );
    const interBrokerAddress = (brokerId: number): BrokerAddress | undefined => {
      const ep = metadata.image.brokers
        .get(brokerId)
        ?.endpoints.find((e) => e.name === config.interBrokerListener);
      return ep && { host: ep.host, port: ep.port };
    };
    const replicas = new ReplicaManager(logs, configs, log, {
      brokerId: config.nodeId,
      replicaLagTimeMaxMs: replica.lagTimeMaxMs,
      fetcher: {
        brokerId: config.nodeId,
        maxWaitMs: replica.fetchWaitMaxMs,
        minBytes: replica.fetchMinBytes,
        maxBytes: replica.fetchResponseMaxBytes,
        partitionMaxBytes: replica.fetchMaxBytes,
        backoffMs: replica.fetchBackoffMs,
        requestTimeoutMs: replica.socketTimeoutMs,
      },
      replicationQuotaWindow: {
        samples: network.quotaWindowNum,
        windowMs: network.quotaWindowSizeSeconds * 1000,
      },
      connectTo: (leaderId) =>
        new BrokerClient(() => interBrokerAddress(leaderId), {
          clientId: `broker-${config.nodeId}-fetcher`,
          connectTimeoutMs: replica.socketTimeoutMs,
          requestTimeoutMs: replica.socketTimeoutMs,
          maxResponseBytes: config.socketRequestMaxBytes + replica.fetchResponseMaxBytes,
          security: peerSecurity,
          log,
        }),
    });
    const topicDefaults: TopicDefaults = {
      numPartitions: config.numPartitions,
      replicationFactor: config.defaultReplicationFactor,
      maxReplicationFactor: config.maxReplicationFactor,
      partitionLimit: config.partitionLimit,
    };

    const controllerService = new ControllerService(
      metadataQueue,
      metadata,
      {
        clusterId,
        sessionTimeoutMs: quorum.brokerSessionTimeoutMs,
        heartbeatIntervalMs: quorum.brokerHeartbeatIntervalMs,
        maxReplicationFactor: config.maxReplicationFactor,
        leaderImbalancePercent: quorum.leaderImbalancePerBrokerPercentage,
        autoLeaderRebalance: quorum.autoLeaderRebalanceEnable,
        leaderRebalanceIntervalMs: quorum.leaderImbalanceCheckIntervalSeconds * 1000,
        snapshotIntervalRecords: quorum.metadataSnapshotIntervalRecords,
        uncleanAllowed: (image, topic) =>
          configs.topicConfig(image, topic, 'unclean.leader.election.enable') === 'true',
      },
      interBrokerAddress,
      log,
      pgStore,
    );
    const election = new ControllerElection(
      pgStore,
      {
        brokerId: config.nodeId,
        leaseMs: quorum.controllerLeaseMs,
        renewMs: quorum.controllerLeaseRenewMs,
      },
      controllerService,
      log,
    );

    // The request dispatcher and this broker's lifecycle manager depend (through the services
    // and the controller channel) on parts built before them: bound late, checked when read.
    const apis = new LateBound<KafkaApis>('KafkaApis');
    const lifecycle = new LateBound<BrokerLifecycleManager>('BrokerLifecycleManager');
    const brokerEpoch = () => lifecycle.peek()?.brokerEpoch ?? -1;
    const loopback: ConnectionInfo = {
      connectionId: 'loopback',
      listenerName: config.interBrokerListener,
      securityProtocol: 'PLAINTEXT',
      clientAddress: '127.0.0.1',
      clientPort: 0,
      principal: `User:broker-${config.nodeId}`,
      internal: true,
    };
    const channel = new ControllerChannel(
      election,
      interBrokerAddress,
      (frame) => apis.get().dispatch(loopback, frame),
      {
        brokerId: config.nodeId,
        requestTimeoutMs: replica.socketTimeoutMs,
        retryBackoffMs: 100,
        security: peerSecurity,
        log,
      },
    );
    replicas.alterPartitions = new AlterPartitionManager(
      channel,
      config.nodeId,
      brokerEpoch,
      replica.socketTimeoutMs,
      log,
    );
    replicas.directoryAssignments = new DirectoryAssignmentManager(channel, config.nodeId, brokerEpoch, log);

    const offsetsStore = new ConsumerOffsetsStore(
      replicas,
      () => config.offsetsTopicPartitions,
      () => Date.now(),
      log,
      groupSettings.offsetsCommitTimeoutMs,
      () => Number(configs.topicConfig(metadata.image, OFFSETS_TOPIC, 'min.insync.replicas') ?? 1),
    );
    const groups = new GroupCoordinator(
      {
        minSessionTimeoutMs: groupSettings.minSessionTimeoutMs,
        maxSessionTimeoutMs: groupSettings.maxSessionTimeoutMs,
        initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
        maxGroupSize: groupSettings.maxSize,
        offsetMetadataMaxBytes: groupSettings.offsetMetadataMaxBytes,
      },
      timerScheduler,
      offsetsStore,
    );

    const producerIds = new ProducerIdAllocator(async () => {
      const r = await channel.send(ApiKey.AllocateProducerIds, 0, {
        brokerId: config.nodeId,
        brokerEpoch: BigInt(brokerEpoch()),
      });
      if (r.errorCode !== ErrorCode.NONE) throw new Error(`AllocateProducerIds failed: ${r.errorCode}`);
      return { start: Number(r.producerIdStart), length: r.producerIdLen };
    });
    const minIsrOf = (topic: string) =>
      Number(configs.topicConfig(metadata.image, topic, 'min.insync.replicas') ?? 1);
    const txnSettings = config.transactions;
    const txnStore = new TransactionStateStore(
      replicas,
      txnSettings.stateLogPartitions,
      () => Date.now(),
      log,
      groupSettings.offsetsCommitTimeoutMs,
      () => minIsrOf(TRANSACTION_STATE_TOPIC),
    );
    const markerTarget: MarkerAppendTarget = {
      partition: (topic, partition) => replicas.get(topic, partition),
      knows: (topic) => metadata.image.topic(topic) !== undefined,
      minInsyncReplicas: minIsrOf,
      // Kafka's group coordinator settles a transaction's offsets when its marker is written.
      markerWritten: (marker, tp) => {
        if (tp.topic === OFFSETS_TOPIC)
          groups.completeTransaction(
            marker.producerId,
            marker.commit,
            (groupId) => offsetsStore.partitionOf(groupId) === tp.partition,
          );
      },
      now: () => Date.now(),
      timeoutMs: replica.socketTimeoutMs,
    };
    const markerChannel = new TransactionMarkerChannel({
      brokerId: config.nodeId,
      image: () => metadata.image,
      appendLocal: (marker, tps) => appendTxnMarkers(markerTarget, marker, tps),
      connect: (brokerId) =>
        new BrokerClient(() => interBrokerAddress(brokerId), {
          clientId: `broker-${config.nodeId}-txn-markers`,
          connectTimeoutMs: replica.socketTimeoutMs,
          requestTimeoutMs: replica.socketTimeoutMs,
          maxResponseBytes: config.socketRequestMaxBytes,
          security: peerSecurity,
          log,
        }),
      retryBackoffMs: 100,
      log,
    });
    const transactions = new TransactionCoordinator(
      {
        maxTimeoutMs: txnSettings.maxTimeoutMs,
        transactionalIdExpirationMs: txnSettings.transactionalIdExpirationMs,
      },
      txnStore,
      markerChannel,
      () => producerIds.allocate(),
      () => Date.now(),
      log,
    );

    const traffic = trafficMetricsFor(config);
    const diskBudget = new InstanceDiskBudget(
      logs,
      () => metadata.image,
      config.nodeId,
      config.disk,
      INTERNAL_TOPICS,
      log,
    );
    // Late: the socket server that applies reloaded contexts is built after the services.
    const tlsTarget = new LateBound<SocketServer>('SocketServer');
    const listenerTlsReloader =
      tls.size > 0
        ? new ListenerTlsReloader(
            config.nodeId,
            [...tls.keys()],
            config.passthrough,
            (listener, next) => tlsTarget.get().setListenerTls(listener, next),
            log,
          )
        : undefined;
    /** A topic as this broker asks the controller to create it (Kafka's `creatableTopic`). */
    const creatableTopic = (name: string, partitions?: number, topicConfigs?: Record<string, string>) => {
      const internal = name.startsWith('__');
      const wanted =
        name === TRANSACTION_STATE_TOPIC
          ? txnSettings.stateLogReplicationFactor
          : internal
            ? groupSettings.offsetsTopicReplicationFactor
            : config.defaultReplicationFactor;
      // A standalone broker makes do with the replicas it has; a cluster waits for enough
      // brokers (the create fails and clients retry), as Kafka does.
      const live = metadata.image.liveBrokers().length;
      const rf = clustered ? wanted : Math.max(1, Math.min(wanted, live));
      // Standalone, an internal topic's min.insync.replicas (transaction.state.log.min.isr)
      // cannot exceed the replicas it got, or nothing could ever be written to it.
      const minIsr = topicConfigs?.['min.insync.replicas'];
      const createConfigs =
        !clustered && minIsr !== undefined && Number(minIsr) > rf
          ? { ...topicConfigs, 'min.insync.replicas': String(rf) }
          : topicConfigs;
      return {
        name,
        numPartitions: partitions ?? config.numPartitions,
        replicationFactor: rf,
        assignments: [],
        configs: Object.entries(createConfigs ?? {}).map(([k, v]) => ({ name: k, value: v })),
      };
    };
    /**
     * The broker's own CreateTopics to the controller, in the newest version both speak (Kafka's
     * `latestUsableVersion`): a broker emulating Kafka 2.4 (CreateTopics up to v5) refuses v7,
     * and every broker of an instance emulates the same release.
     */
    const createTopicsAtController = (topics: ReturnType<typeof creatableTopic>[]) => {
      const advertised = apis.get().advertised.find((a) => a.apiKey === ApiKey.CreateTopics);
      return channel.send(ApiKey.CreateTopics, Math.min(7, advertised?.maxVersion ?? 7), {
        topics,
        timeoutMs: 30_000,
        validateOnly: false,
      });
    };
    const autoTopicCreation = new AutoTopicCreationManager({
      async create(topics) {
        const r = await createTopicsAtController(topics.map((t) => creatableTopic(t)));
        return new Map(r.topics.map((t) => [t.name, t.errorCode]));
      },
      async awaitVisible(topics) {
        const visible = () => topics.every((t) => metadata.image.topic(t));
        const giveUpAt = Date.now() + METADATA_PROPAGATION_WAIT_MS;
        while (!visible() && Date.now() < giveUpAt) {
          await metadata.catchUp();
          if (!visible()) await new Promise((res) => setTimeout(res, 20));
        }
      },
      log,
    });
    const services: BrokerServices = {
      brokerId: config.nodeId,
      clusterId,
      config,
      configs,
      metadata,
      metadataQueue,
      activeController: () => (election.isActive ? controllerService.active : undefined),
      isActiveController: () => election.isActive,
      controllerId: () => election.controllerId ?? -1,
      replicas,
      logs,
      groups,
      producerIds,
      transactions,
      offsetsPartitionOf: (groupId) => offsetsStore.partitionOf(groupId),
      transactionStatePartitionOf: (transactionalId) => txnStore.partitionOf(transactionalId),
      appendTxnMarkers: (marker, tps) => appendTxnMarkers(markerTarget, marker, tps),
      sasl,
      listenerTls: listenerTlsReloader,
      authorizer,
      quotas: new QuotaManagers(
        { samples: network.quotaWindowNum, windowMs: network.quotaWindowSizeSeconds * 1000 },
        network.instanceBandwidthBytesPerSecond,
        config.nodeId,
      ),
      diskBudget,
      fetchSessions: new FetchSessionCache(network.maxIncrementalFetchSessionCacheSlots),
      readBuffers: new ReadBufferPool(),
      shards:
        network.shardThreads > 0
          ? new ShardPool(network.shardThreads, log.child({ component: 'shards' }))
          : undefined,
      topicDefaults,
      metrics: traffic && { traffic },
      log,
      now: () => Date.now(),
      autoTopicCreation,
      async ensureTopic(name, partitions, topicConfigs) {
        if (metadata.image.topic(name)) return metadata.image;
        const r = await createTopicsAtController([creatableTopic(name, partitions, topicConfigs)]);
        const result = r.topics[0];
        if (
          result &&
          result.errorCode !== ErrorCode.NONE &&
          result.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS
        )
          log.warn(
            { topic: name, errorCode: result.errorCode, message: result.errorMessage },
            'topic not created',
          );
        // The controller has appended it; wait until this broker's image has it too.
        for (let i = 0; i < 50 && !metadata.image.topic(name) && result?.errorCode !== undefined; i++) {
          if (result.errorCode !== ErrorCode.NONE && result.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS)
            break;
          await metadata.catchUp();
          if (!metadata.image.topic(name)) await new Promise((res) => setTimeout(res, 20));
        }
        return metadata.image;
      },
      coordinatorError(groupId) {
        if (!metadata.image.topic(OFFSETS_TOPIC)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
        const p = replicas.get(OFFSETS_TOPIC, offsetsStore.partitionOf(groupId));
        if (!p?.isLeader) return ErrorCode.NOT_COORDINATOR;
        if (p.offline) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
        return ErrorCode.NONE;
      },
      async forwardToController(connection, frame): Promise<FrameResult> {
        const [type, ...rest] = connection.principal.split(':');
        const principal = new Writer(64);
        encodeDefaultPrincipalDataV0(principal, {
          type: type ?? 'User',
          name: rest.join(':'),
          tokenAuthenticated: false,
        });
        const r = await channel.send(ApiKey.Envelope, 0, {
          requestData: frame,
          requestPrincipal: principal.toBuffer(),
          clientHostAddress: addressToBytes(connection.clientAddress),
        });
        if (r.errorCode !== ErrorCode.NONE || !r.responseData)
          throw new Error(`forwarded request failed with error ${r.errorCode}`);
        const size = Buffer.alloc(4);
        size.writeInt32BE(r.responseData.length);
        return [size, r.responseData];
      },
      dispatchLocal: (connection, frame) => apis.get().dispatch(connection, frame),
      async awaitMetadataPropagation() {
        const controller = election.isActive ? controllerService.active : undefined;
        if (!controller) return;
        // Alone in the cluster, this broker's own image is the only one, and it has the change.
        const live = metadata.image.liveBrokers();
        if (live.length === 1 && live[0]!.brokerId === config.nodeId) return;
        if (!(await controller.waitForPropagation(metadata.image.offset, METADATA_PROPAGATION_WAIT_MS)))
          log.warn({ offset: metadata.image.offset }, 'metadata change not yet seen by every broker');
      },
      heartbeatSeen: (brokerId, brokerEpoch, connection) =>
        controllerService.heartbeatSeen(brokerId, brokerEpoch, connection.connectionId),
    };
    logs.onDirOffline(() => lifecycle.peek()?.heartbeatSoon());
    // Retention and compaction never touch what consumers cannot read yet.
    logs.highWatermarkOf = (topic, partition) => replicas.get(topic, partition)?.highWatermark;
    logs.lastStableOffsetOf = (topic, partition) => replicas.get(topic, partition)?.lastStableOffset;
    // The coordinator owns the groups of the `__consumer_offsets` partitions this broker leads.
    replicas.onLeadershipChange((p, isLeader) => {
      if (p.topic !== OFFSETS_TOPIC) return;
      const owned = (groupId: string) => offsetsStore.partitionOf(groupId) === p.partition;
      groups.unload(owned);
      if (!isLeader) return;
      const loaded = offsetsStore.loadPartition(groups, p);
      log.info({ partition: p.partition, records: loaded }, 'loaded consumer groups');
    });
    // The transaction coordinator owns the ids of the `__transaction_state` partitions this broker
    // leads; taking one over replays it and completes the commits and aborts it finds prepared.
    replicas.onLeadershipChange((p, isLeader) => {
      if (p.topic !== TRANSACTION_STATE_TOPIC) return;
      transactions.unload(p.partition);
      if (!isLeader) return;
      transactions.beginLoad(p.partition);
      const values = txnStore.load(p);
      transactions.completeLoad(p.partition, values);
      log.info({ partition: p.partition, transactionalIds: values.size }, 'loaded transaction state');
    });
    metadata.onChange((image) => {
      replicas.applyImage(image, Date.now());
      lifecycle.peek()?.heartbeatSoon();
    });

    const socketServer = new SocketServer(
      {
        handleFrame: (c, f) => apis.get().handleFrame(c, f),
        connectionClosed: (c) => controllerService.connectionClosed(c.connectionId),
      },
      {
        maxFrameBytes: config.socketRequestMaxBytes,
        maxUnauthenticatedFrameBytes: network.saslServerMaxReceiveSize,
        // Pipelined requests per connection, never more than the broker-wide queue.
        maxInFlight: Math.min(64, network.queuedMaxRequests),
        idleTimeoutMs: network.connectionsMaxIdleMs,
      },
      log,
      {
        tls,
        connectionQuotas,
        allowlists,
        admission: {
          memory: new RequestMemoryPool(network.queuedMaxRequestBytes),
          queue: new RequestQueue(network.queuedMaxRequests),
        },
      },
    );
    tlsTarget.set(socketServer);
    metadata.onChange((image) => listenerTlsReloader?.update(image));
    // Dynamic broker configs a running broker follows: per broker, else cluster default, else static.
    const dynamicBrokerConfig = (image: MetadataImage, key: string): string | undefined =>
      image.configsOf('broker', String(config.nodeId)).get(key) ?? image.configsOf('broker', '').get(key);
    const cleanerBackoffMs = (image: MetadataImage) =>
      Number(dynamicBrokerConfig(image, 'log.cleaner.backoff.ms') ?? logMaintenance.cleanerBackoffMs);
    metadata.onChange((image) => logs.setCleanerBackoff(cleanerBackoffMs(image)));
    const producerIdExpirationMs = (image: MetadataImage) =>
      Number(dynamicBrokerConfig(image, 'producer.id.expiration.ms') ?? txnSettings.producerIdExpirationMs);
    metadata.onChange((image) =>
      connectionQuotas.reconfigure(
        connectionLimits(config, {
          perBroker: image.configsOf('broker', String(config.nodeId)),
          clusterDefault: image.configsOf('broker', ''),
        }),
      ),
    );
    // A changed allowlist applies to new connections at once and closes open ones it no longer admits.
    metadata.onChange((image) => {
      const changed = allowlists.update(image);
      if (changed.length === 0) return;
      const closed = socketServer.enforceAllowlists(changed);
      log.info({ listeners: changed, closed }, 'fjord.allowed.cidrs changed');
    });
    apis.set(
      new KafkaApis(
        services,
        allHandlers(() => apis.get().advertised),
        kafkaRelease(config.kafkaVersion),
      ),
    );

    // ---- Start, in order; each component is stopped in the reverse order. ----
    // Storage: the metadata store (closed last) and the log dirs (partitions found on disk).
    await components.start({ name: 'metadata-store', stop: () => store.close() });
    let found: ReturnType<LogManager['startup']> = [];
    await components.start({
      name: 'log-manager',
      start: () => {
        found = logs.startup();
      },
      stop: () => logs.shutdown(Date.now()),
    });
    // Shard threads stop after the listeners (started later), so no request waits on a stopped one.
    const shards = services.shards;
    if (shards)
      await components.start({
        name: 'shard-threads',
        start: () => shards.start(),
        stop: () => shards.stop(),
      });
    await components.start({ name: 'group-coordinator', stop: () => groups.shutdown() });
    await components.start({ name: 'controller-channel', stop: () => channel.close() });
    // The image as far as the log goes; replicas follow it from here on.
    await components.start({
      name: 'replica-manager',
      start: () => metadata.catchUp(),
      stop: () => replicas.shutdown(),
    });
    let metricsServer: MetricsServer | undefined;
    await components.start({
      name: 'metrics-server',
      start: async () => {
        metricsServer =
          traffic &&
          (await serveMetrics(
            config,
            {
              traffic,
              replicas,
              logs,
              diskBudget,
              metadata,
              groups,
              isActiveController: () => election.isActive,
              connectionCounts: () => socketServer.connectionCounts(),
              refusedByAllowlist: () => socketServer.refusedByAllowlistCounts(),
            },
            interBrokerAddress,
            log,
            peerSecurity,
          ));
      },
      stop: () => metricsServer?.close(),
    });
    const boundPorts = new Map<string, number>();
    await components.start({
      name: 'socket-server',
      start: async () => {
        for (const b of await socketServer.listen(config.listeners)) boundPorts.set(b.listener.name, b.port);
      },
      stop: () => socketServer.close(),
    });
    await components.start({ name: 'controller-service', stop: () => controllerService.stop() });
    if (pgStore) {
      // Wake-ups by NOTIFY, and a periodic look in case one was missed.
      let timer: NodeJS.Timeout | undefined;
      await components.start({
        name: 'metadata-catch-up',
        start: async () => {
          await pgStore.listen(() => void metadata.catchUp().catch(() => {}));
          timer = setInterval(() => void metadata.catchUp().catch(() => {}), 1000);
          timer.unref();
        },
        stop: () => clearInterval(timer),
      });
    }
    await components.start({
      name: 'controller-election',
      start: () => election.start(),
      stop: () => election.stop(),
    });
    // --add-scram users go into the metadata log (through the controller), where authentication reads them.
    await bootstrapScramCredentials(sasl.bootstrapScram, metadata, channel, log);

    const endpoints = config.advertisedListeners.map((l) => ({
      name: l.name,
      host: l.host,
      port: l.port === 0 ? boundPorts.get(l.name)! : l.port,
      securityProtocol: l.securityProtocol,
    }));
    const incarnationId = randomUUID();
    const onlineDirIds = () =>
      logs.dirs
        .filter((d) => logs.isDirOnline(d))
        .map((d) => logs.directoryId(d) ?? '')
        .filter(Boolean);
    const brokerLifecycle = lifecycle.set(
      new BrokerLifecycleManager(
        channel,
        {
          brokerId: config.nodeId,
          heartbeatIntervalMs: quorum.brokerHeartbeatIntervalMs,
          fencedHeartbeatIntervalMs: Math.min(100, quorum.brokerHeartbeatIntervalMs),
          requestTimeoutMs: replica.socketTimeoutMs,
        },
        () => ({
          brokerId: config.nodeId,
          clusterId,
          incarnationId,
          listeners: endpoints.map((e) => ({
            name: e.name,
            host: e.host,
            port: e.port,
            securityProtocol: securityProtocolId(e.securityProtocol),
          })),
          features: [],
          rack: config.rack,
          logDirs: onlineDirIds(),
        }),
        () => metadata.image.offset,
        () =>
          logs.dirs
            .filter((d) => !logs.isDirOnline(d))
            .map((d) => logs.directoryId(d) ?? '')
            .filter(Boolean),
        log,
      ),
    );
    await components.start({
      name: 'broker-lifecycle',
      start: async () => {
        brokerLifecycle.start();
        const unfenced = await brokerLifecycle.waitUntilUnfenced(UNFENCE_WAIT_MS);
        if (!unfenced) log.warn('not unfenced by the controller yet; serving with the metadata we have');
      },
      stop: () => brokerLifecycle.stop(),
    });

    // Partition directories the metadata no longer knows (topic deleted while down) are removed.
    for (const f of found) {
      if (!replicas.get(f.topic, f.partition)) logs.delete(f.topic, f.partition);
    }
    log.info(
      {
        nodeId: config.nodeId,
        clusterId,
        listeners: endpoints,
        clustered,
        controller: election.controllerId,
      },
      'broker started',
    );

    const scheduler = new TimerScheduler((name, err) =>
      log.error({ err, task: name }, 'background task failed'),
    );
    const background: (() => void)[] = [];
    await components.start({
      name: 'background-tasks',
      start: () => {
        background.push(
          logs.schedule(scheduler, {
            retentionCheckMs: logMaintenance.retentionCheckIntervalMs,
            cleanerBackoffMs: cleanerBackoffMs(metadata.image),
            checkpointMs: replica.highWatermarkCheckpointIntervalMs,
          }),
          scheduler.schedule('disk-budget', config.disk.checkIntervalMs, () => diskBudget.enforce()),
          scheduler.schedule('offset-expiry', 60_000, () =>
            groups.expireOffsets(groupSettings.offsetsRetentionMinutes * 60_000),
          ),
          scheduler.schedule('transaction-timeouts', txnSettings.abortTimedOutIntervalMs, () =>
            transactions.abortTimedOut(),
          ),
          scheduler.schedule('transactional-id-expiry', txnSettings.removeExpiredIntervalMs, () =>
            transactions.expireTransactionalIds(),
          ),
          // Kafka's PeriodicProducerExpirationCheck, with the expiration in force at each run.
          scheduler.schedule('producer-id-expiry', txnSettings.producerIdExpirationCheckIntervalMs, () =>
            replicas.expireProducers(Date.now(), producerIdExpirationMs(metadata.image)),
          ),
          scheduler.schedule('isr-expiry', Math.max(10, Math.floor(replica.lagTimeMaxMs / 2)), () =>
            replicas.checkIsrs(Date.now()),
          ),
        );
      },
      stop: () => {
        for (const cancel of background) cancel();
        markerChannel.close();
        diskBudget.close();
      },
    });
    return new Broker(
      config,
      services,
      { components, lifecycle: brokerLifecycle, metricsServer },
      boundPorts,
    );
  }

  /** Port of the Prometheus endpoint (`fjord.metrics.listen`), undefined when off. */
  get metricsPort(): number | undefined {
    return this.parts.metricsServer?.port;
  }

  /** Port bound for a listener (useful when configured with port 0). */
  port(listenerName = this.config.listeners[0]!.name): number {
    return this.boundPorts.get(listenerName)!;
  }

  /**
   * Stops the broker. With `controlled` (the default, as `controlled.shutdown.enable`), it first
   * asks the controller to move its leadership away and waits until that is done, so clients
   * see a leader change rather than an outage; then every component stops, the last started
   * first (background work, this broker's registration, the controller lease, listeners, …,
   * storage).
   */
  async stop(controlled = this.config.quorum.controlledShutdownEnable): Promise<void> {
    const others = this.services.metadata.image.liveBrokers().some((b) => b.brokerId !== this.config.nodeId);
    if (controlled && others) {
      const ok = await this.parts.lifecycle.controlledShutdown(
        this.config.quorum.controlledShutdownTimeoutMs,
      );
      if (!ok) this.services.log.warn('controlled shutdown timed out; stopping anyway');
    }
    await this.parts.components.stopAll();
    this.services.log.info('broker stopped');
  }
}

/** `fjord.kafka.version=3.8` → the newest release tag of that line in the API tables. */
function kafkaRelease(version: string): string {
  const match = Object.keys(API_VERSIONS_BY_RELEASE).filter(
    (r) => r === version || r.startsWith(`${version}.`),
  );
  const release = match[match.length - 1];
  if (!release) throw new Error(`fjord.kafka.version ${version} is not a Kafka release we know`);
  return release;
}
