import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  EffectiveConfigs,
  LocalFileMetadataStore,
  MetadataPublisher,
  type MetadataRecord,
  planBootstrapScram,
  planCreateTopic,
  QuorumController,
  type TopicDefaults,
} from '@fjord/metadata';
import { API_VERSIONS_BY_RELEASE } from '@fjord/protocol';
import type { Logger } from 'pino';
import type { ResolvedBrokerConfig } from './config/BrokerConfig.js';
import { ConsumerOffsetsStore } from './group/ConsumerOffsetsStore.js';
import { GroupCoordinator, type Scheduler } from './group/GroupCoordinator.js';
import { connectionQuotasFromConfig } from './network/ConnectionQuotas.js';
import { SocketServer } from './network/SocketServer.js';
import { tlsByListener } from './network/TlsContext.js';
import { ProducerIdAllocator } from './producer/ProducerIdAllocator.js';
import { QuotaManagers } from './quota/QuotaManagers.js';
import { ReplicaManager } from './replica/ReplicaManager.js';
import { authorizerFromConfig } from './security/AuthorizerConfig.js';
import { SaslConfig } from './security/SaslConfig.js';
import type { BrokerServices } from './server/BrokerServices.js';
import { FetchSessionCache } from './server/FetchSessionCache.js';
import { allHandlers } from './server/handlers/index.js';
import { KafkaApis } from './server/KafkaApis.js';
import { LogManager } from './storage/LogManager.js';
import { TimerScheduler } from './storage/Scheduler.js';

const METADATA_DIR = '__fjord_metadata';
/** The product allows up to three replicas per partition. */
export const MAX_REPLICATION_FACTOR = 3;

const timerScheduler: Scheduler = {
  now: () => Date.now(),
  schedule(delayMs, fn) {
    const t = setTimeout(fn, delayMs);
    t.unref();
    return () => clearTimeout(t);
  },
};

/**
 * A standalone Fjord broker: metadata in a local file log, partitions in `log.dirs`, group
 * coordinator, Kafka protocol on every listener. This is the composition root; every piece
 * it wires is usable and tested on its own.
 */
export class Broker {
  readonly stopBackground: (() => void)[] = [];

  private constructor(
    readonly config: ResolvedBrokerConfig,
    readonly services: BrokerServices,
    private readonly socketServer: SocketServer,
    private readonly store: LocalFileMetadataStore,
    readonly boundPorts: ReadonlyMap<string, number>,
  ) {}

  static async start(config: ResolvedBrokerConfig, log: Logger): Promise<Broker> {
    const firstDir = config.logDirs[0]!;
    mkdirSync(firstDir, { recursive: true });
    const clusterId = readOrCreateClusterId(firstDir, config.clusterId);
    const store = new LocalFileMetadataStore(join(firstDir, METADATA_DIR));
    const metadata = new MetadataPublisher(store);
    const controller = new QuorumController(store, metadata);
    await metadata.catchUp();
    const sasl = new SaslConfig(
      config.passthrough,
      config.scramUsers,
      Number(config.values.get('connections.max.reauth.ms')),
    );
    // --add-scram users go into the metadata log, where authentication reads them.
    if (sasl.bootstrapScram.length > 0)
      await controller.submit((image) => planBootstrapScram(image, sasl.bootstrapScram));
    const authorizer = authorizerFromConfig(config);
    // TLS material is loaded (and refused with the key named) before anything else starts.
    const tls = tlsByListener(config.listeners, config.passthrough);

    const logs = new LogManager(config.logDirs, log, {
      clusterId,
      nodeId: config.nodeId,
      cleaner: config.values.get('log.cleaner.enable') === false ? false : {},
    });
    const found = logs.startup();
    const configs = new EffectiveConfigs(config.nodeId, config.values, config.explicit);
    const replicas = new ReplicaManager(config.nodeId, logs, configs, log);
    const topicDefaults: TopicDefaults = {
      numPartitions: config.numPartitions,
      replicationFactor: config.defaultReplicationFactor,
      maxReplicationFactor: MAX_REPLICATION_FACTOR,
    };

    let groups: GroupCoordinator | undefined;
    const services: BrokerServices = {
      brokerId: config.nodeId,
      clusterId,
      config,
      configs,
      metadata,
      controller,
      replicas,
      logs,
      get groups() {
        return groups!;
      },
      producerIds: new ProducerIdAllocator(controller, config.nodeId),
      sasl,
      authorizer,
      quotas: new QuotaManagers(
        {
          samples: Number(config.values.get('quota.window.num')),
          windowMs: Number(config.values.get('quota.window.size.seconds')) * 1000,
        },
        config.values.get('fjord.instance.bandwidth.bytes.per.second') as number | null,
      ),
      fetchSessions: new FetchSessionCache(
        Number(config.values.get('max.incremental.fetch.session.cache.slots')),
      ),
      topicDefaults,
      log,
      now: () => Date.now(),
      async ensureTopic(name, partitions, topicConfigs) {
        if (metadata.image.topic(name)) return metadata.image;
        const live = metadata.image.liveBrokers().length;
        const internal = name.startsWith('__');
        const rf = Math.max(
          1,
          Math.min(
            internal
              ? Number(config.values.get('offsets.topic.replication.factor'))
              : config.defaultReplicationFactor,
            live,
          ),
        );
        await controller.submit((image) =>
          image.topic(name)
            ? { ok: true, records: [] }
            : planCreateTopic(
                image,
                {
                  name,
                  numPartitions: partitions ?? config.numPartitions,
                  replicationFactor: rf,
                  assignments: [],
                  configs: Object.entries(topicConfigs ?? {}).map(([k, v]) => ({ name: k, value: v })),
                },
                topicDefaults,
              ),
        );
        return metadata.image;
      },
    };
    metadata.onChange((image) => replicas.applyImage(image, Date.now()));
    // Retention and compaction never touch what consumers cannot read yet.
    logs.highWatermarkOf = (topic, partition) => replicas.get(topic, partition)?.highWatermark;

    const offsetsStore = new ConsumerOffsetsStore(
      replicas,
      () => config.offsetsTopicPartitions,
      () => Date.now(),
      log,
    );
    groups = new GroupCoordinator(
      {
        minSessionTimeoutMs: Number(config.values.get('group.min.session.timeout.ms')),
        maxSessionTimeoutMs: Number(config.values.get('group.max.session.timeout.ms')),
        initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
        maxGroupSize: Number(config.values.get('group.max.size')),
        offsetMetadataMaxBytes: Number(config.values.get('offset.metadata.max.bytes')),
      },
      timerScheduler,
      offsetsStore,
    );

    let apis: KafkaApis | undefined;
    const frameHandler = {
      handleFrame: (c: Parameters<KafkaApis['handleFrame']>[0], f: Buffer) => apis!.handleFrame(c, f),
    };
    const socketServer = new SocketServer(
      frameHandler,
      {
        maxFrameBytes: config.socketRequestMaxBytes,
        maxUnauthenticatedFrameBytes: Number(config.values.get('sasl.server.max.receive.size')),
        maxInFlight: 64,
        idleTimeoutMs: Number(config.values.get('connections.max.idle.ms')),
      },
      log,
      { tls, connectionQuotas: connectionQuotasFromConfig(config) },
    );
    apis = new KafkaApis(
      services,
      allHandlers(() => apis!.advertised),
      kafkaRelease(config.kafkaVersion),
    );
    const bound = await socketServer.listen(config.listeners);
    const boundPorts = new Map(bound.map((b) => [b.listener.name, b.port]));

    // Register (or re-register with new endpoints) before serving: metadata answers list us.
    const endpoints = config.advertisedListeners.map((l) => ({
      name: l.name,
      host: l.host,
      port: l.port === 0 ? boundPorts.get(l.name)! : l.port,
      securityProtocol: l.securityProtocol,
    }));
    const existing = metadata.image.brokers.get(config.nodeId);
    const registration: MetadataRecord = {
      type: 'RegisterBroker',
      brokerId: config.nodeId,
      incarnationId: randomUUID(),
      brokerEpoch: (existing?.brokerEpoch ?? 0) + 1,
      endpoints,
      rack: config.rack,
      fenced: false,
    };
    await controller.submit(() => ({ ok: true, records: [registration] }));

    // Partition directories the metadata no longer knows (topic deleted while down) are removed.
    for (const f of found) {
      if (!replicas.get(f.topic, f.partition)) logs.delete(f.topic, f.partition);
    }
    const loaded = offsetsStore.load(groups);
    log.info(
      { nodeId: config.nodeId, clusterId, listeners: endpoints, groupRecords: loaded },
      'broker started',
    );

    const broker = new Broker(config, services, socketServer, store, boundPorts);
    const scheduler = new TimerScheduler((name, err) =>
      log.error({ err, task: name }, 'background task failed'),
    );
    broker.stopBackground.push(
      logs.schedule(scheduler, {
        retentionCheckMs: Number(config.values.get('log.retention.check.interval.ms')),
        cleanerBackoffMs: Number(config.values.get('log.cleaner.backoff.ms')),
      }),
      scheduler.schedule('offset-expiry', 60_000, () =>
        groups!.expireOffsets(Number(config.values.get('offsets.retention.minutes')) * 60_000),
      ),
    );
    return broker;
  }

  /** Port bound for a listener (useful when configured with port 0). */
  port(listenerName = this.config.listeners[0]!.name): number {
    return this.boundPorts.get(listenerName)!;
  }

  async stop(): Promise<void> {
    for (const stop of this.stopBackground) stop();
    await this.socketServer.close();
    this.services.groups.shutdown();
    this.services.logs.shutdown(Date.now());
    await this.store.close();
    this.services.log.info('broker stopped');
  }
}

/** Kafka's meta.properties keeps the cluster id with the data; we do the same. */
function readOrCreateClusterId(dir: string, configured: string | null): string {
  const path = join(dir, 'meta.properties');
  if (existsSync(path)) {
    const m = /^cluster\.id=(.+)$/m.exec(readFileSync(path, 'utf8'));
    if (m) {
      if (configured && configured !== m[1])
        throw new Error(`cluster.id ${configured} does not match ${m[1]} in ${path}`);
      return m[1]!;
    }
  }
  const id = configured ?? randomUUID().replace(/-/g, '').slice(0, 22);
  writeFileSync(path, `version=1\ncluster.id=${id}\n`);
  return id;
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
