import { RESERVED_SASL_USERS } from '@fjord/contracts';
import type { BrokerPlacement } from '@fjord/db';
import {
  type AclSpec,
  AdminError,
  type GroupState,
  InstanceAdmin,
  instanceAdminCredential,
  kafkaErrorType,
  MessageBrowser,
  type MessagePage,
  ScramAdmin,
  type ScramMechanism,
  type ScramUser,
  scramPasswordMatches,
  type TopicState,
} from '@fjord/fleet';
import { type ReplicaFootprint, replicaBytesOfBrokers, widestOf } from '@fjord/provisioning';
import { ApiProblem } from '../problem.js';

export type { AclSpec, GroupState, MessagePage, ScramUser, TopicState };

export type ReadFrom = { offset: number } | { timestamp: number } | { latest: number };
export interface ProduceRequest {
  partition?: number;
  key?: string;
  value: string;
  headers?: Record<string, string>;
}

/** What the API reads from an instance's cluster itself (topics, ACLs, users, groups live there). */
export interface ClusterAdmin extends ReplicaFootprint {
  listTopics(instanceId: string, brokers: readonly BrokerPlacement[]): Promise<TopicState[]>;
  listAcls(instanceId: string, brokers: readonly BrokerPlacement[]): Promise<AclSpec[]>;
  listUsers(instanceId: string, brokers: readonly BrokerPlacement[]): Promise<ScramUser[]>;
  /** Whether `password` is the user's: the broker authenticates it (no verifier is kept elsewhere). */
  passwordMatches(
    instanceId: string,
    brokers: readonly BrokerPlacement[],
    user: string,
    mechanism: ScramMechanism,
    password: string,
  ): Promise<boolean>;
  listGroups(
    instanceId: string,
    brokers: readonly BrokerPlacement[],
  ): Promise<{ groupId: string; protocolType: string }[]>;
  describeGroup(
    instanceId: string,
    brokers: readonly BrokerPlacement[],
    groupId: string,
  ): Promise<GroupState | undefined>;
  readMessages(
    instanceId: string,
    brokers: readonly BrokerPlacement[],
    topic: string,
    partition: number,
    from: ReadFrom,
    limit: number,
  ): Promise<MessagePage | undefined>;
  produce(
    instanceId: string,
    brokers: readonly BrokerPlacement[],
    topic: string,
    message: ProduceRequest,
  ): Promise<{ partition: number; offset: number } | undefined>;
  close(): Promise<void>;
}

const IDLE_MS = 60_000;
const controlPort = (b: BrokerPlacement) => (b.ports as Record<string, number>).CONTROL;

/** A broker that does not implement an admin API (older broker builds) is a clean 501, not a 502. */
function unsupported(e: unknown): boolean {
  return kafkaErrorType(e) === 'UNSUPPORTED_VERSION';
}

/**
 * Keeps one admin client per instance (connecting per request would dominate latency) and closes
 * clients idle for a minute. Reads go to the lowest running broker: with standalone brokers each
 * holds the same topics (the worker applies changes to every one).
 */
export class KafkaClusterAdmin implements ClusterAdmin {
  private readonly clients = new Map<string, { admin: InstanceAdmin; key: string; lastUse: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly adminSecret: string) {
    this.sweeper = setInterval(() => this.sweep(), IDLE_MS / 2);
    this.sweeper.unref();
  }

  private first(brokers: readonly BrokerPlacement[]): BrokerPlacement {
    const running = brokers
      .filter((b) => b.status === 'RUNNING' && controlPort(b))
      .sort((a, b) => a.brokerId - b.brokerId);
    if (running.length === 0)
      throw new ApiProblem('instance_not_ready', 'the instance has no running brokers yet');
    return running[0]!;
  }

  private clientFor(instanceId: string, brokers: readonly BrokerPlacement[]): InstanceAdmin {
    const first = this.first(brokers);
    const key = `${first.host}:${controlPort(first)}`;
    const existing = this.clients.get(instanceId);
    if (existing && existing.key === key) {
      existing.lastUse = Date.now();
      return existing.admin;
    }
    if (existing) void existing.admin.close();
    const admin = new InstanceAdmin([key], {
      sasl: instanceAdminCredential(instanceId, this.adminSecret),
      requestTimeoutMs: 5000,
    });
    this.clients.set(instanceId, { admin, key, lastUse: Date.now() });
    return admin;
  }

  private async guarded<T>(instanceId: string, what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ApiProblem) throw e;
      if (unsupported(e))
        throw new ApiProblem('not_supported_by_brokers', `the instance's brokers do not support ${what} yet`);
      this.drop(instanceId);
      // The cause names brokers' internal addresses: it goes to the log, not to the caller.
      throw new ApiProblem('cluster_unavailable', `the instance's brokers did not answer (${what}); retry`, {
        cause: e,
      });
    }
  }

  listTopics(instanceId: string, brokers: readonly BrokerPlacement[]) {
    return this.guarded(instanceId, 'topics', () => this.clientFor(instanceId, brokers).listTopics());
  }

  widestReplication(instanceId: string, brokers: readonly BrokerPlacement[]) {
    return this.guarded(instanceId, 'topics', async () =>
      widestOf(await this.clientFor(instanceId, brokers).partitionLayout()),
    );
  }

  replicaBytes(instanceId: string, brokers: readonly BrokerPlacement[]) {
    return this.guarded(instanceId, 'log dirs (DescribeLogDirs)', () =>
      replicaBytesOfBrokers(instanceId, brokers, this.adminSecret),
    );
  }

  listAcls(instanceId: string, brokers: readonly BrokerPlacement[]) {
    return this.guarded(instanceId, 'ACLs (DescribeAcls)', () =>
      this.clientFor(instanceId, brokers).listAcls(),
    );
  }

  listUsers(instanceId: string, brokers: readonly BrokerPlacement[]) {
    return this.guarded(instanceId, 'SCRAM users (DescribeUserScramCredentials)', async () => {
      const b = this.first(brokers);
      const users = await new ScramAdmin(
        b.host,
        controlPort(b)!,
        instanceAdminCredential(instanceId, this.adminSecret),
      ).list();
      return users.filter((u) => !RESERVED_SASL_USERS.has(u.name));
    });
  }

  passwordMatches(
    instanceId: string,
    brokers: readonly BrokerPlacement[],
    user: string,
    mechanism: ScramMechanism,
    password: string,
  ) {
    return this.guarded(instanceId, 'SASL authentication', () => {
      const b = this.first(brokers);
      return scramPasswordMatches({ host: b.host, port: controlPort(b)! }, user, mechanism, password);
    });
  }

  listGroups(instanceId: string, brokers: readonly BrokerPlacement[]) {
    return this.guarded(instanceId, 'consumer groups', () =>
      this.clientFor(instanceId, brokers).listGroups(),
    );
  }

  describeGroup(instanceId: string, brokers: readonly BrokerPlacement[], groupId: string) {
    return this.guarded(instanceId, 'consumer groups', () =>
      this.clientFor(instanceId, brokers).describeGroup(groupId),
    );
  }

  /** The leader's placement, or undefined when the topic/partition does not exist. */
  private async leaderOf(
    instanceId: string,
    brokers: readonly BrokerPlacement[],
    topic: string,
    partition: number,
  ) {
    const leader = await this.clientFor(instanceId, brokers).partitionLeader(topic, partition);
    if (leader === undefined) return undefined;
    const placement = brokers.find((b) => b.brokerId === leader && controlPort(b)) ?? this.first(brokers);
    return new MessageBrowser(
      placement.host,
      controlPort(placement)!,
      instanceAdminCredential(instanceId, this.adminSecret),
    );
  }

  readMessages(
    instanceId: string,
    brokers: readonly BrokerPlacement[],
    topic: string,
    partition: number,
    from: ReadFrom,
    limit: number,
  ) {
    return this.guarded(instanceId, 'reading messages', async () =>
      (await this.leaderOf(instanceId, brokers, topic, partition))?.read(topic, partition, from, limit),
    );
  }

  produce(instanceId: string, brokers: readonly BrokerPlacement[], topic: string, message: ProduceRequest) {
    return this.guarded(instanceId, 'producing', async () =>
      (await this.leaderOf(instanceId, brokers, topic, message.partition ?? 0))?.produce(topic, message),
    );
  }

  private drop(instanceId: string): void {
    const c = this.clients.get(instanceId);
    this.clients.delete(instanceId);
    if (c) void c.admin.close();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, c] of this.clients) if (now - c.lastUse > IDLE_MS) this.drop(id);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.clients.values()].map((c) => c.admin.close()));
    this.clients.clear();
  }
}

export { AdminError };
