import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerClient, type InterBrokerSecurity } from '@fjord/broker';
import { LocalCluster, type LocalClusterOptions } from '@fjord/broker-app';
import { migrate } from '@fjord/db';
import { ApiKey, type ApiMessageTypes, ErrorCode } from '@fjord/protocol';
import pg from 'pg';

const ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const PYTHON = '/usr/bin/python3'; // Debian's Python, which sees python3-confluent-kafka
const WORKLOAD = join(import.meta.dirname, 'clients/workload.py');

export async function adminQuery(sql: string, url = ADMIN_URL): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A migrated database of its own for one test file; dropped by `drop`. */
export async function freshDatabase(serverUrl = 'postgresql://postgres@127.0.0.1:5432') {
  const name = `fjord_cluster_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  await adminQuery(`CREATE DATABASE "${name}"`, `${serverUrl}/postgres`);
  const url = `${serverUrl}/${name}`;
  await migrate(url);
  return {
    url,
    drop: () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`, `${serverUrl}/postgres`),
  };
}

export interface PartitionView {
  readonly partition: number;
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

/**
 * What the tests ask the cluster about itself, in the Kafka protocol (any live broker): the
 * leaders and ISRs of a topic, groups. Real clients do the produce/consume/admin work.
 */
export class ClusterProbe {
  constructor(
    private readonly cluster: LocalCluster,
    /** The listener's SASL, for clusters started with `sasl` (the probe authenticates as the brokers do). */
    private readonly security?: InterBrokerSecurity,
  ) {}

  /** A request to any running broker (the first that answers). */
  async send<K extends keyof ApiMessageTypes>(
    apiKey: K,
    version: number,
    body: ApiMessageTypes[K]['requestInput'],
  ): Promise<ApiMessageTypes[K]['response']> {
    let last: unknown;
    for (const b of this.cluster.brokers) {
      if (!b.running) continue;
      try {
        return await this.sendTo(b.id, apiKey, version, body);
      } catch (e) {
        last = e;
      }
    }
    throw new Error(`no broker answered: ${String(last)}`);
  }

  /** A request to one broker in particular (per-broker state such as DescribeLogDirs). */
  async sendTo<K extends keyof ApiMessageTypes>(
    brokerId: number,
    apiKey: K,
    version: number,
    body: ApiMessageTypes[K]['requestInput'],
  ): Promise<ApiMessageTypes[K]['response']> {
    const b = this.cluster.broker(brokerId);
    const client = new BrokerClient(() => ({ host: b.host, port: b.port }), {
      clientId: 'cluster-probe',
      // Failure detection only: a busy machine may answer slowly, and CreateTopics is not retried safely.
      connectTimeoutMs: 30_000,
      requestTimeoutMs: 60_000,
      maxResponseBytes: 64 * 1024 * 1024,
      security: this.security,
    });
    try {
      return await client.send(apiKey, version, body);
    } finally {
      client.close();
    }
  }

  async partitions(topic: string): Promise<PartitionView[]> {
    const md = await this.send(ApiKey.Metadata, 9, {
      topics: [{ name: topic, topicId: '00000000-0000-0000-0000-000000000000' }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    const t = md.topics[0];
    if (!t || t.errorCode !== ErrorCode.NONE) return [];
    return t.partitions
      .map((p) => ({
        partition: p.partitionIndex,
        leader: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        replicas: p.replicaNodes,
        isr: p.isrNodes,
      }))
      .sort((a, b) => a.partition - b.partition);
  }

  async createTopic(
    name: string,
    partitions: number,
    replicationFactor: number,
    configs: Record<string, string> = {},
    /** Replicas per partition; Kafka then wants numPartitions and replicationFactor as -1. */
    assignments?: readonly (readonly number[])[],
  ) {
    const r = await this.send(ApiKey.CreateTopics, 7, {
      topics: [
        {
          name,
          numPartitions: assignments ? -1 : partitions,
          replicationFactor: assignments ? -1 : replicationFactor,
          assignments: (assignments ?? []).map((ids, partitionIndex) => ({
            partitionIndex,
            brokerIds: [...ids],
          })),
          configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })),
        },
      ],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    const t = r.topics[0]!;
    if (t.errorCode !== ErrorCode.NONE)
      throw new Error(`CreateTopics ${name}: ${t.errorCode} ${t.errorMessage}`);
    await waitFor(async () => {
      const ps = await this.partitions(name);
      return ps.length === partitions && ps.every((p) => p.leader >= 0 && p.isr.length === replicationFactor);
    }, 60_000);
  }

  async controllerId(): Promise<number> {
    const md = await this.send(ApiKey.Metadata, 9, {
      topics: [],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    return md.controllerId;
  }

  /** A group as its coordinator describes it. */
  async group(groupId: string): Promise<{ state: string; members: number }> {
    const c = await this.send(ApiKey.FindCoordinator, 3, { key: groupId, keyType: 0, coordinatorKeys: [] });
    if (c.errorCode !== ErrorCode.NONE) return { state: 'unknown', members: 0 };
    const d = await this.sendTo(c.nodeId, ApiKey.DescribeGroups, 5, {
      groups: [groupId],
      includeAuthorizedOperations: false,
    });
    const g = d.groups[0];
    if (!g || g.errorCode !== ErrorCode.NONE) return { state: 'unknown', members: 0 };
    return { state: g.groupState, members: g.members.length };
  }

  /** Partitions whose ISR is smaller than their replica set, over every topic. */
  async underReplicated(): Promise<number> {
    const md = await this.send(ApiKey.Metadata, 9, {
      topics: null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    let n = 0;
    for (const t of md.topics)
      for (const p of t.partitions) if (p.isrNodes.length < p.replicaNodes.length) n++;
    return n;
  }

  /** Restarts every broker in turn (controlled shutdown, start, wait until fully replicated). */
  async rollingRestart(): Promise<void> {
    for (const b of this.cluster.brokers) {
      await b.stop();
      await b.start();
      await waitFor(
        async () => (await this.underReplicated()) === 0,
        60_000,
        `replicas to catch up after broker ${b.id}`,
      );
    }
  }

  /** Brokers the cluster currently lists as alive (unfenced). */
  async liveBrokers(): Promise<number[]> {
    const md = await this.send(ApiKey.Metadata, 9, {
      topics: [],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    return md.brokers.map((b) => b.nodeId).sort();
  }
}

/** Polls `condition` until it holds; throws with `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await condition()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface TestCluster {
  readonly cluster: LocalCluster;
  readonly probe: ClusterProbe;
  readonly databaseUrl: string;
  readonly baseDir: string;
  close(): Promise<void>;
}

/** A LocalCluster on a fresh database and temp dirs; `close` kills it and removes both. */
export async function startTestCluster(
  options: Partial<LocalClusterOptions> & { brokers: number; zones: number; postgresServer?: string },
): Promise<TestCluster> {
  const db = await freshDatabase(options.postgresServer);
  const baseDir = mkdtempSync(join(tmpdir(), 'fjord-cluster-'));
  const cluster = await LocalCluster.start({
    databaseUrl: db.url,
    baseDir,
    logLevel: process.env.FJORD_TEST_LOG ?? 'info',
    ...options,
    overrides: {
      'offsets.topic.num.partitions': '6',
      'broker.session.timeout.ms': '6000',
      ...options.overrides,
    },
  });
  return {
    cluster,
    probe: new ClusterProbe(
      cluster,
      options.sasl && {
        sasl: {
          mechanism: options.sasl.mechanism,
          username: options.sasl.user,
          password: options.sasl.password,
        },
      },
    ),
    databaseUrl: db.url,
    baseDir,
    async close() {
      await cluster.kill();
      await db.drop().catch(() => {});
      if (!process.env.FJORD_KEEP_CLUSTER) rmSync(baseDir, { recursive: true, force: true });
    },
  };
}

/** The workload's environment: ours, plus extra client settings it merges into every client's. */
function workloadEnv(clientConfig: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  return { ...process.env, FJORD_WORKLOAD_CLIENT_CONFIG: JSON.stringify(clientConfig) };
}

export interface Delivery {
  readonly t: number;
  readonly v: string;
  readonly p?: number;
  readonly o?: number;
  readonly err?: string;
}

/** A steady idempotent acks=all producer (librdkafka) in its own process; see workload.py. */
export class ProducerWorkload {
  readonly deliveries: Delivery[] = [];
  private readonly child: ChildProcess;
  private readonly done: Promise<{ sent: number; acked: number; failed: number; unflushed: number }>;
  private stderr = '';

  constructor(
    bootstrap: string,
    topic: string,
    partitions: number,
    seconds: number,
    rate: number,
    name: string,
    /** Extra librdkafka settings (SASL for an authenticated cluster). */
    clientConfig: Readonly<Record<string, string>> = {},
  ) {
    this.child = spawn(
      PYTHON,
      [WORKLOAD, 'produce', bootstrap, topic, String(partitions), String(seconds), String(rate), name],
      { stdio: ['ignore', 'pipe', 'pipe'], env: workloadEnv(clientConfig) },
    );
    let buf = '';
    let summary: { sent: number; acked: number; failed: number; unflushed: number } | undefined;
    this.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
        let line: Delivery & { done?: boolean };
        try {
          line = JSON.parse(text);
        } catch {
          this.stderr += `unparseable output: ${text}\n`;
          continue;
        }
        if (line.done) summary = line as never;
        else this.deliveries.push(line);
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.done = new Promise((resolve, reject) => {
      this.child.on('close', (code) => {
        if (code === 0 && summary) resolve(summary);
        else reject(new Error(`producer exited ${code}: ${this.stderr}`));
      });
    });
  }

  acked(): Delivery[] {
    return this.deliveries.filter((d) => d.err === undefined);
  }

  /** Resolves when the producer finished sending and flushed. */
  finished() {
    return this.done;
  }

  stop() {
    this.child.kill('SIGTERM');
    return this.done;
  }
}

export interface Consumed {
  readonly t: number;
  readonly p?: number;
  readonly o?: number;
  readonly v?: string;
  /** An error the consumer's application saw. */
  readonly e?: string;
}

/** A consumer-group member (librdkafka) in its own process for `seconds`; see workload.py. */
export class ConsumerWorkload {
  readonly records: Consumed[] = [];
  private readonly child: ChildProcess;
  private readonly done: Promise<void>;

  constructor(bootstrap: string, topic: string, group: string, seconds: number) {
    this.child = spawn(PYTHON, [WORKLOAD, 'consume', bootstrap, topic, group, String(seconds)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    onJsonLines(
      this.child.stdout!,
      (line) => {
        if (!(line as { done?: boolean }).done) this.records.push(line as Consumed);
      },
      (text) => {
        stderr += `unparseable output: ${text}\n`;
      },
    );
    this.child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    this.done = new Promise((resolve, reject) => {
      this.child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`consumer exited ${code}: ${stderr}`)),
      );
    });
  }

  values(): Set<string> {
    return new Set(this.records.filter((r) => r.v !== undefined).map((r) => r.v!));
  }

  /** Errors the application saw (librdkafka reports broker-down events as informational, not here). */
  errors(): string[] {
    return this.records.filter((r) => r.e !== undefined).map((r) => r.e!);
  }

  finished(): Promise<void> {
    return this.done;
  }

  stop(): Promise<void> {
    this.child.kill('SIGTERM');
    return this.done;
  }
}

/** Every record of a topic, read with librdkafka from each partition's start to its high watermark. */
export async function dumpTopic(
  bootstrap: string,
  topic: string,
  clientConfig: Readonly<Record<string, string>> = {},
): Promise<[number, number, string][]> {
  const child = spawn(PYTHON, [WORKLOAD, 'dump', bootstrap, topic], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: workloadEnv(clientConfig),
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`dump failed (${code}): ${err.slice(-2000)}`);
  const result = JSON.parse(out.trim().split('\n').pop()!);
  if (!result.complete)
    throw new Error(
      `dump incomplete: ends ${JSON.stringify(result.ends)}, read up to ${JSON.stringify(result.reached)}`,
    );
  return result.records;
}

export interface LossReport {
  readonly acknowledged: number;
  readonly inLog: number;
  readonly lost: string[];
  readonly duplicated: string[];
  readonly outOfOrder: string[];
}

/**
 * The no-loss check: every acknowledged value is in the log, none twice, and per partition each
 * producer's values appear in the order it sent them.
 */
export function checkLog(
  acked: readonly Delivery[],
  records: readonly [number, number, string][],
): LossReport {
  const seen = new Map<string, number>();
  for (const [, , v] of records) seen.set(v, (seen.get(v) ?? 0) + 1);
  const lost = acked.filter((d) => !seen.has(d.v)).map((d) => d.v);
  const duplicated = [...seen].filter(([, n]) => n > 1).map(([v]) => v);
  const outOfOrder: string[] = [];
  const lastSeq = new Map<string, number>();
  for (const [p, , v] of [...records].sort((a, b) => a[0] - b[0] || a[1] - b[1])) {
    const dash = v.lastIndexOf('-');
    const key = `${p}/${v.slice(0, dash)}`;
    const seq = Number(v.slice(dash + 1));
    if ((lastSeq.get(key) ?? -1) >= seq) outOfOrder.push(v);
    lastSeq.set(key, seq);
  }
  return { acknowledged: acked.length, inLog: records.length, lost, duplicated, outOfOrder };
}

/** Calls `onLine` with each JSON line a driver prints (`onBad` with lines that are not JSON). */
export function onJsonLines(
  stream: NodeJS.ReadableStream,
  onLine: (value: unknown) => void,
  onBad: (text: string) => void,
): void {
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const text = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        onBad(text);
        continue;
      }
      onLine(value);
    }
  });
}
