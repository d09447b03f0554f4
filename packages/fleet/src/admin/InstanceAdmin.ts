import kafkajs, { type Admin } from 'kafkajs';

// kafkajs is CommonJS: its enums and classes come from the default export under ESM.
const { ConfigResourceTypes, ConfigSource, Kafka, logLevel } = kafkajs;

export interface TopicState {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Configs set on the topic itself (not broker defaults). */
  readonly configs: Record<string, string>;
  /** Partitions whose in-sync replicas are fewer than their replicas. */
  readonly underReplicated: number;
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs: Record<string, string>;
}

export interface AdminCredential {
  readonly username: string;
  readonly password: string;
}

export class AdminError extends Error {
  constructor(
    message: string,
    readonly kafkaType?: string,
  ) {
    super(message);
  }
}

const kafkaType = (e: unknown): string | undefined => (e as { type?: string }).type;

/**
 * The Kafka Admin protocol view of one instance, through kafkajs: what the API reads and the
 * worker changes. Every change is idempotent (exists / already gone / already that size are fine),
 * so a resumed job can repeat it.
 */
export class InstanceAdmin {
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;

  constructor(
    readonly bootstrap: readonly string[],
    options: { clientId?: string; requestTimeoutMs?: number; sasl?: AdminCredential } = {},
  ) {
    const kafka = new Kafka({
      ...(options.sasl
        ? {
            sasl: {
              mechanism: 'scram-sha-512',
              username: options.sasl.username,
              password: options.sasl.password,
            },
          }
        : {}),
      clientId: options.clientId ?? 'fjord-control-plane',
      brokers: [...bootstrap],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    this.admin = kafka.admin();
  }

  private async ready(): Promise<Admin> {
    this.connected ??= this.admin.connect().catch((e) => {
      this.connected = undefined;
      throw new AdminError(`cannot reach the instance's brokers: ${(e as Error).message}`);
    });
    await this.connected;
    return this.admin;
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect().catch(() => {});
    this.connected = undefined;
  }

  /** Brokers the cluster reports (a standalone broker reports only itself). */
  async clusterBrokerIds(): Promise<number[]> {
    const admin = await this.ready();
    return (await admin.describeCluster()).brokers.map((b) => b.nodeId).sort((a, b) => a - b);
  }

  async listTopics(): Promise<TopicState[]> {
    const admin = await this.ready();
    const names = (await admin.listTopics()).filter((n) => !n.startsWith('__')).sort();
    return this.describe(admin, names);
  }

  async describeTopic(name: string): Promise<TopicState | undefined> {
    const admin = await this.ready();
    const names = await admin.listTopics();
    if (!names.includes(name)) return undefined;
    return (await this.describe(admin, [name]))[0];
  }

  private async describe(admin: Admin, names: string[]): Promise<TopicState[]> {
    if (names.length === 0) return [];
    const [meta, configs] = await Promise.all([
      admin.fetchTopicMetadata({ topics: names }),
      admin.describeConfigs({
        resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
        includeSynonyms: false,
      }),
    ]);
    const configsOf = new Map(
      configs.resources.map((r) => [
        r.resourceName,
        Object.fromEntries(
          r.configEntries
            .filter((c) => !c.isDefault && c.configSource === ConfigSource.TOPIC_CONFIG)
            .map((c) => [c.configName, c.configValue]),
        ),
      ]),
    );
    return meta.topics
      .map((t) => ({
        name: t.name,
        partitions: t.partitions.length,
        replicationFactor: t.partitions[0]?.replicas.length ?? 0,
        configs: configsOf.get(t.name) ?? {},
        underReplicated: t.partitions.filter((p) => p.isr.length < p.replicas.length).length,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async createTopic(spec: TopicSpec): Promise<void> {
    const admin = await this.ready();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: spec.name,
            numPartitions: spec.partitions,
            replicationFactor: spec.replicationFactor,
            configEntries: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
          },
        ],
      });
    } catch (e) {
      if (kafkaType(e) === 'TOPIC_ALREADY_EXISTS' || /already exists/i.test((e as Error).message)) return;
      throw new AdminError(`CreateTopics ${spec.name}: ${(e as Error).message}`, kafkaType(e));
    }
  }

  async deleteTopic(name: string): Promise<void> {
    const admin = await this.ready();
    try {
      await admin.deleteTopics({ topics: [name] });
    } catch (e) {
      if (kafkaType(e) === 'UNKNOWN_TOPIC_OR_PARTITION') return;
      throw new AdminError(`DeleteTopics ${name}: ${(e as Error).message}`, kafkaType(e));
    }
  }

  /** Grows the topic to `count` partitions; a topic already that large is left alone. */
  async ensurePartitions(name: string, count: number): Promise<void> {
    const admin = await this.ready();
    const current = await this.describeTopic(name);
    if (!current) throw new AdminError(`topic ${name} does not exist`, 'UNKNOWN_TOPIC_OR_PARTITION');
    if (current.partitions >= count) return;
    try {
      await admin.createPartitions({ topicPartitions: [{ topic: name, count }] });
    } catch (e) {
      throw new AdminError(`CreatePartitions ${name}: ${(e as Error).message}`, kafkaType(e));
    }
  }

  /** Sets the given topic configs, keeping the others (AlterConfigs replaces the whole set). */
  async setTopicConfigs(name: string, changes: Record<string, string>): Promise<void> {
    const admin = await this.ready();
    const current = await this.describeTopic(name);
    if (!current) throw new AdminError(`topic ${name} does not exist`, 'UNKNOWN_TOPIC_OR_PARTITION');
    const merged = { ...current.configs, ...changes };
    try {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name,
            configEntries: Object.entries(merged).map(([n, value]) => ({ name: n, value })),
          },
        ],
      });
    } catch (e) {
      throw new AdminError(`AlterConfigs ${name}: ${(e as Error).message}`, kafkaType(e));
    }
  }

  /** Under-replicated partitions across every topic (0 when all replicas are in sync). */
  async underReplicatedPartitions(): Promise<number> {
    const admin = await this.ready();
    const names = await admin.listTopics();
    if (names.length === 0) return 0;
    const meta = await admin.fetchTopicMetadata({ topics: names });
    return meta.topics.reduce(
      (n, t) => n + t.partitions.filter((p) => p.isr.length < p.replicas.length).length,
      0,
    );
  }
}
