import { type Connection, unregisterBrokerV0 } from '@platformatic/kafka';
import kafkajs, { type Admin } from 'kafkajs';
import { withBrokerConnection } from './brokerConnection.js';
import { electLeadersV2 } from './electLeaders.js';
import { kafkaErrorType } from './kafkaErrors.js';

// kafkajs is CommonJS: its enums and classes come from the default export under ESM.
const BROKER_ID_NOT_REGISTERED = 102;

const {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ConfigResourceTypes,
  ConfigSource,
  Kafka,
  logLevel,
  ResourcePatternTypes,
} = kafkajs;

/** An ACL binding in Kafka's terms, with names instead of the protocol's numbers. */
export interface AclSpec {
  readonly resourceType: 'topic' | 'group' | 'cluster' | 'transactionalId';
  readonly resourceName: string;
  readonly patternType: 'literal' | 'prefixed';
  readonly principal: string;
  readonly host: string;
  readonly operation: string;
  readonly permission: 'allow' | 'deny';
}

const RESOURCE_TYPES = {
  topic: AclResourceTypes.TOPIC,
  group: AclResourceTypes.GROUP,
  cluster: AclResourceTypes.CLUSTER,
  transactionalId: AclResourceTypes.TRANSACTIONAL_ID,
} as const;
const OPERATIONS: Record<string, number> = {
  all: AclOperationTypes.ALL,
  read: AclOperationTypes.READ,
  write: AclOperationTypes.WRITE,
  create: AclOperationTypes.CREATE,
  delete: AclOperationTypes.DELETE,
  alter: AclOperationTypes.ALTER,
  describe: AclOperationTypes.DESCRIBE,
  clusterAction: AclOperationTypes.CLUSTER_ACTION,
  describeConfigs: AclOperationTypes.DESCRIBE_CONFIGS,
  alterConfigs: AclOperationTypes.ALTER_CONFIGS,
  idempotentWrite: AclOperationTypes.IDEMPOTENT_WRITE,
};
const invert = <T extends Record<string, number>>(o: T) => new Map(Object.entries(o).map(([k, v]) => [v, k]));
const RESOURCE_NAMES = invert(RESOURCE_TYPES);
const OPERATION_NAMES = invert(OPERATIONS);

function aclEntry(a: AclSpec) {
  return {
    resourceType: RESOURCE_TYPES[a.resourceType],
    resourceName: a.resourceName,
    resourcePatternType:
      a.patternType === 'prefixed' ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
    principal: a.principal,
    host: a.host,
    operation: OPERATIONS[a.operation] ?? AclOperationTypes.UNKNOWN,
    permissionType: a.permission === 'deny' ? AclPermissionTypes.DENY : AclPermissionTypes.ALLOW,
  };
}

export interface GroupState {
  readonly groupId: string;
  readonly state: string;
  readonly protocol: string;
  readonly members: { memberId: string; clientId: string; clientHost: string; assignments: string[] }[];
  readonly lag: {
    topic: string;
    partition: number;
    committedOffset: number | null;
    endOffset: number;
    lag: number | null;
  }[];
}

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

const kafkaType = kafkaErrorType;

/**
 * The Kafka Admin protocol view of one instance, through kafkajs: what the API reads and the
 * worker changes. Every change is idempotent (exists / already gone / already that size are fine),
 * so a resumed job can repeat it.
 */
export class InstanceAdmin {
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;
  private readonly sasl: AdminCredential | undefined;

  constructor(
    readonly bootstrap: readonly string[],
    options: { clientId?: string; requestTimeoutMs?: number; sasl?: AdminCredential } = {},
  ) {
    this.sasl = options.sasl;
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
      if (kafkaType(e) === 'TOPIC_ALREADY_EXISTS') return;
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

  /**
   * Sets the given topic configs and removes `remove`, keeping the others (AlterConfigs replaces
   * the whole set).
   */
  async setTopicConfigs(
    name: string,
    changes: Record<string, string>,
    remove: readonly string[] = [],
  ): Promise<void> {
    const admin = await this.ready();
    const current = await this.describeTopic(name);
    if (!current) throw new AdminError(`topic ${name} does not exist`, 'UNKNOWN_TOPIC_OR_PARTITION');
    const merged = { ...current.configs, ...changes };
    for (const key of remove) delete merged[key];
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

  /** The broker leading a partition, or undefined when the topic or partition does not exist. */
  async partitionLeader(topic: string, partition: number): Promise<number | undefined> {
    const admin = await this.ready();
    if (!(await admin.listTopics()).includes(topic)) return undefined;
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.find((p) => p.partitionId === partition)?.leader;
  }

  async listAcls(): Promise<AclSpec[]> {
    const admin = await this.ready();
    try {
      const r = await admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      return r.resources.flatMap((res) =>
        res.acls.map((a) => ({
          resourceType: (RESOURCE_NAMES.get(res.resourceType) ?? 'topic') as AclSpec['resourceType'],
          resourceName: res.resourceName,
          patternType:
            res.resourcePatternType === ResourcePatternTypes.PREFIXED
              ? ('prefixed' as const)
              : ('literal' as const),
          principal: a.principal,
          host: a.host,
          operation: OPERATION_NAMES.get(a.operation) ?? 'unknown',
          permission: a.permissionType === AclPermissionTypes.DENY ? ('deny' as const) : ('allow' as const),
        })),
      );
    } catch (e) {
      throw new AdminError(`DescribeAcls: ${(e as Error).message}`, kafkaType(e));
    }
  }

  /** Creating an ACL that exists is a no-op in Kafka, so a repeat is safe. */
  async createAcl(a: AclSpec): Promise<void> {
    const admin = await this.ready();
    try {
      await admin.createAcls({ acl: [aclEntry(a)] });
    } catch (e) {
      throw new AdminError(`CreateAcls: ${(e as Error).message}`, kafkaType(e));
    }
  }

  async deleteAcl(a: AclSpec): Promise<void> {
    const admin = await this.ready();
    try {
      await admin.deleteAcls({ filters: [aclEntry(a)] });
    } catch (e) {
      throw new AdminError(`DeleteAcls: ${(e as Error).message}`, kafkaType(e));
    }
  }

  async listGroups(): Promise<{ groupId: string; protocolType: string }[]> {
    const admin = await this.ready();
    return (await admin.listGroups()).groups.sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  async describeGroup(groupId: string): Promise<GroupState | undefined> {
    const admin = await this.ready();
    const [g] = (await admin.describeGroups([groupId])).groups;
    if (!g || (g.state === 'Dead' && g.members.length === 0)) return undefined;
    const offsets = await admin.fetchOffsets({ groupId });
    const lag: GroupState['lag'] = [];
    for (const t of offsets) {
      const ends = new Map(
        (await admin.fetchTopicOffsets(t.topic)).map((p) => [p.partition, Number(p.high)]),
      );
      for (const p of t.partitions) {
        const committed = Number(p.offset) >= 0 ? Number(p.offset) : null;
        const end = ends.get(p.partition) ?? 0;
        lag.push({
          topic: t.topic,
          partition: p.partition,
          committedOffset: committed,
          endOffset: end,
          lag: committed === null ? null : Math.max(0, end - committed),
        });
      }
    }
    return {
      groupId: g.groupId,
      state: g.state,
      protocol: g.protocol,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignments: assignedTopics(m.memberAssignment),
      })),
      lag: lag.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
    };
  }

  /** Moves a group's committed offsets on one topic; Kafka only allows it while the group is empty. */
  async resetGroupOffsets(
    groupId: string,
    topic: string,
    to:
      | { kind: 'earliest' | 'latest' }
      | { kind: 'timestamp'; timestamp: number }
      | { kind: 'offset'; offset: number },
  ): Promise<void> {
    const admin = await this.ready();
    try {
      let partitions: { partition: number; offset: string }[];
      // Earliest and latest are resolved to offsets and those committed, as Kafka's reset tool
      // does: a committed sentinel would leave the group without offsets (a consumer's
      // auto.offset.reset would decide again, and lag would show none).
      if (to.kind === 'earliest' || to.kind === 'latest')
        partitions = (await admin.fetchTopicOffsets(topic)).map((p) => ({
          partition: p.partition,
          offset: to.kind === 'earliest' ? p.low : p.high,
        }));
      else if (to.kind === 'timestamp')
        partitions = await admin.fetchTopicOffsetsByTimestamp(topic, to.timestamp);
      else {
        const offset = (to as { offset: number }).offset;
        partitions = (await admin.fetchTopicOffsets(topic)).map((p) => ({
          partition: p.partition,
          offset: String(Math.min(offset, Number(p.high))),
        }));
      }
      await admin.setOffsets({ groupId, topic, partitions });
    } catch (e) {
      throw new AdminError(`reset offsets of ${groupId}: ${(e as Error).message}`, kafkaType(e));
    }
  }

  /**
   * Replicated partitions that would fall below their min.insync.replicas if `brokerId` stopped now
   * (it is in their ISR and the ISR has no spare member).
   */
  async partitionsAtRiskWithout(
    brokerId: number,
  ): Promise<{ topic: string; partition: number; isr: number; minIsr: number }[]> {
    const admin = await this.ready();
    const names = await admin.listTopics();
    if (names.length === 0) return [];
    const [meta, configs] = await Promise.all([
      admin.fetchTopicMetadata({ topics: names }),
      admin.describeConfigs({
        resources: names.map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ['min.insync.replicas'],
        })),
        includeSynonyms: false,
      }),
    ]);
    const minIsr = new Map(
      configs.resources.map((r) => [
        r.resourceName,
        Number(r.configEntries.find((c) => c.configName === 'min.insync.replicas')?.configValue ?? 1),
      ]),
    );
    return meta.topics.flatMap((t) =>
      t.partitions
        .filter(
          (p) =>
            p.replicas.length > 1 && p.isr.includes(brokerId) && p.isr.length - 1 < (minIsr.get(t.name) ?? 1),
        )
        .map((p) => ({
          topic: t.name,
          partition: p.partitionId,
          isr: p.isr.length,
          minIsr: minIsr.get(t.name) ?? 1,
        })),
    );
  }

  /** Replica lists of every partition of every topic (internal ones included). */
  async partitionLayout(): Promise<{ topic: string; partition: number; replicas: number[] }[]> {
    const admin = await this.ready();
    const names = await admin.listTopics();
    if (names.length === 0) return [];
    const meta = await admin.fetchTopicMetadata({ topics: names });
    return meta.topics.flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId, replicas: p.replicas })),
    );
  }

  /** Asks the controller to move replicas (Kafka adds the new ones, lets them catch up, then drops the old). */
  async reassign(
    plan: readonly { topic: string; partition: number; replicas: readonly number[] }[],
  ): Promise<void> {
    if (plan.length === 0) return;
    const admin = await this.ready();
    const byTopic = new Map<string, { partition: number; replicas: number[] }[]>();
    for (const p of plan)
      byTopic.set(p.topic, [
        ...(byTopic.get(p.topic) ?? []),
        { partition: p.partition, replicas: [...p.replicas] },
      ]);
    try {
      await admin.alterPartitionReassignments({
        topics: [...byTopic].map(([topic, partitionAssignment]) => ({ topic, partitionAssignment })),
      });
    } catch (e) {
      throw new AdminError(`AlterPartitionReassignments: ${(e as Error).message}`, kafkaType(e));
    }
  }

  /**
   * Partitions whose leader is not their preferred (first) replica although that replica is in
   * sync: what a preferred leader election would move.
   */
  async nonPreferredLeaders(): Promise<
    { topic: string; partition: number; leader: number; preferred: number }[]
  > {
    const admin = await this.ready();
    const names = await admin.listTopics();
    if (names.length === 0) return [];
    const meta = await admin.fetchTopicMetadata({ topics: names });
    return meta.topics.flatMap((t) =>
      t.partitions
        .filter((p) => p.replicas.length > 0 && p.leader !== p.replicas[0] && p.isr.includes(p.replicas[0]!))
        .map((p) => ({
          topic: t.name,
          partition: p.partitionId,
          leader: p.leader,
          preferred: p.replicas[0]!,
        })),
    );
  }

  /**
   * A preferred leader election over every partition (ElectLeaders, forwarded to the controller by
   * whichever broker gets it), so leadership returns to the brokers it was spread over after a
   * broker stopped or a reassignment. Partitions already led by their preferred replica are no error.
   */
  async electPreferredLeaders(): Promise<void> {
    const r = await this.onAnyBroker('ElectLeaders', (c) => electLeadersV2.async(c, 0, 10_000));
    if (r.errorCode !== 0) throw new AdminError(`ElectLeaders: error ${r.errorCode}`);
  }

  /**
   * Forgets a broker that has left for good (UnregisterBroker, forwarded to the controller), so no
   * replica can be assigned to it and its per-broker configs go; one not registered is done already.
   */
  async unregisterBroker(brokerId: number): Promise<void> {
    const r = await this.onAnyBroker('UnregisterBroker', (c) => unregisterBrokerV0.api.async(c, brokerId));
    if (r.errorCode !== 0 && r.errorCode !== BROKER_ID_NOT_REGISTERED)
      throw new AdminError(`UnregisterBroker ${brokerId}: ${r.errorMessage ?? `error ${r.errorCode}`}`);
  }

  /** A request any broker forwards to the controller: the next one is tried when one does not answer. */
  private async onAnyBroker<T>(purpose: string, send: (c: Connection) => Promise<T>): Promise<T> {
    const credential = this.sasl;
    if (!credential) throw new AdminError(`${purpose} needs the admin credential`);
    let failure: unknown;
    for (const address of this.bootstrap) {
      const [host, port] = splitHostPort(address);
      try {
        return await withBrokerConnection(
          { host, port, credential },
          { clientId: 'fjord-control-plane', purpose },
          send,
        );
      } catch (e) {
        failure = e;
      }
    }
    throw failure;
  }

  async reassignmentsInProgress(): Promise<number> {
    const admin = await this.ready();
    const r = await admin.listPartitionReassignments({});
    return r.topics.reduce((n, t) => n + t.partitions.length, 0);
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

function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

/** Topics named in a consumer protocol assignment (version, then topic → partitions). */
function assignedTopics(buf: Buffer): string[] {
  try {
    if (buf.length < 6) return [];
    let o = 2;
    const n = buf.readInt32BE(o);
    o += 4;
    const topics: string[] = [];
    for (let i = 0; i < n && i < 10_000; i++) {
      const len = buf.readInt16BE(o);
      o += 2;
      topics.push(buf.toString('utf8', o, o + len));
      o += len;
      const parts = buf.readInt32BE(o);
      o += 4 + parts * 4;
    }
    return topics;
  } catch {
    return [];
  }
}
