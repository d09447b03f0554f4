import type { BrokerPlacement } from '@fjord/db';
import { InstanceAdmin, instanceAdminCredential, type TopicState } from '@fjord/fleet';
import { ApiProblem } from '../problem.js';

export type { TopicState };

/** What the API reads from an instance's cluster itself (topics exist where the brokers say). */
export interface ClusterAdmin {
  listTopics(instanceId: string, brokers: readonly BrokerPlacement[]): Promise<TopicState[]>;
  close(): Promise<void>;
}

const IDLE_MS = 60_000;

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

  private clientFor(instanceId: string, brokers: readonly BrokerPlacement[]): InstanceAdmin {
    const running = brokers
      .filter((b) => b.status === 'RUNNING' && (b.ports as Record<string, number>).CONTROL)
      .sort((a, b) => a.brokerId - b.brokerId);
    if (running.length === 0)
      throw new ApiProblem('instance_not_ready', 'the instance has no running brokers yet');
    const first = running[0]!;
    const bootstrap = [`${first.host}:${(first.ports as Record<string, number>).CONTROL}`];
    const key = bootstrap.join(',');
    const existing = this.clients.get(instanceId);
    if (existing && existing.key === key) {
      existing.lastUse = Date.now();
      return existing.admin;
    }
    if (existing) void existing.admin.close();
    const admin = new InstanceAdmin(bootstrap, {
      sasl: instanceAdminCredential(instanceId, this.adminSecret),
      requestTimeoutMs: 5000,
    });
    this.clients.set(instanceId, { admin, key, lastUse: Date.now() });
    return admin;
  }

  async listTopics(instanceId: string, brokers: readonly BrokerPlacement[]): Promise<TopicState[]> {
    try {
      return await this.clientFor(instanceId, brokers).listTopics();
    } catch (e) {
      if (e instanceof ApiProblem) throw e;
      this.drop(instanceId);
      throw new ApiProblem(
        'cluster_unavailable',
        `the instance's brokers did not answer: ${(e as Error).message}`,
      );
    }
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
