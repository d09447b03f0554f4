import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ApiConfig } from '@fjord/api';
import type { LocalBrokerProcesses } from '@fjord/fleet';
import { buildZoneAgent } from '@fjord/zone-agent';
import type { FastifyInstance } from 'fastify';
import { type RestClient, startTestApi, TEST_ADMIN_SECRET, type TestApi } from './api.js';
import { REDIS_URL } from './redis.js';

const WORKER_MAIN = resolve(import.meta.dirname, '../../apps/worker/dist/main.js');
export const AGENT_SECRET = 'test-agent-secret';

export interface ZoneAgentUnderTest {
  readonly zone: string;
  /** The host of the zone it is (`default`: the one `PUT /v1/zones/{zone}` registers). */
  readonly host: string;
  readonly url: string;
  readonly app: FastifyInstance;
  readonly processes: LocalBrokerProcesses;
}

/** The whole control plane on this machine: API, zone agents (az-1..n, more hosts on demand) and a worker process. */
export interface TestService {
  readonly t: TestApi;
  readonly operator: RestClient;
  readonly agents: ZoneAgentUnderTest[];
  readonly dataDir: string;
  worker: ChildProcess | undefined;
  /** Starts another zone agent and registers it as host `host` of `zone` (the zone may be new). */
  startHost(zone: string, host: string, capacity?: number): Promise<ZoneAgentUnderTest>;
  startWorker(env?: Record<string, string>): ChildProcess;
  stopWorker(signal?: NodeJS.Signals): Promise<void>;
  close(): Promise<void>;
}

export async function startTestService(
  zones = 3,
  workerEnv: Record<string, string> = {},
  apiOverrides: Partial<ApiConfig> = {},
): Promise<TestService> {
  const t = await startTestApi(apiOverrides);
  const dataDir = mkdtempSync(join(tmpdir(), 'fjord-service-'));
  const agents: ZoneAgentUnderTest[] = [];
  const operator = await t.operator();
  const startAgent = async (zone: string, host: string): Promise<ZoneAgentUnderTest> => {
    const { app, processes } = await buildZoneAgent({
      zone,
      host: '127.0.0.1',
      port: 0,
      dataDir: join(dataDir, zone, host),
      secret: AGENT_SECRET,
      // Lets a run use another broker build (e.g. a branch not merged yet).
      ...(process.env.FJORD_TEST_BROKER_MAIN ? { brokerMain: process.env.FJORD_TEST_BROKER_MAIN } : {}),
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const agent = { zone, host, url, app, processes };
    agents.push(agent);
    return agent;
  };
  for (let i = 1; i <= zones; i++) {
    const zone = `az-${i}`;
    const { url } = await startAgent(zone, 'default');
    const r = await operator.call('PUT', `/v1/zones/${zone}`, { capacity: 8, agentUrl: url });
    if (r.status !== 200) throw new Error(`zone ${zone}: ${r.status}`);
  }
  const service: TestService = {
    t,
    operator,
    agents,
    dataDir,
    worker: undefined,
    async startHost(zone, host, capacity = 8) {
      const agent = await startAgent(zone, host);
      const r = await operator.call('PUT', `/v1/zones/${zone}/hosts/${host}`, {
        capacity,
        agentUrl: agent.url,
      });
      if (r.status !== 200) throw new Error(`host ${zone}/${host}: ${r.status} ${JSON.stringify(r.body)}`);
      return agent;
    },
    startWorker(env = {}) {
      const child = spawn(process.execPath, [WORKER_MAIN], {
        env: {
          ...process.env,
          DATABASE_URL: t.databaseUrl,
          REDIS_URL,
          FJORD_QUEUE_PREFIX: t.queuePrefix,
          FJORD_AGENT_SECRET: AGENT_SECRET,
          FJORD_ADMIN_SECRET: TEST_ADMIN_SECRET,
          FJORD_LOG_LEVEL: process.env.FJORD_TEST_LOG ? 'info' : 'warn',
          FJORD_RECONCILE_MS: '1000',
          FJORD_HEALTH_MS: '1000',
          FJORD_JOB_LOCK_MS: '2000',
          // Rolling work pauses between brokers; 10 s in production, shorter so tests stay quick.
          FJORD_ROLLING_SETTLE_MS: '1000',
          ...workerEnv,
          ...env,
        },
        stdio: ['ignore', process.env.FJORD_TEST_LOG ? 'inherit' : 'ignore', 'inherit'],
      });
      service.worker = child;
      return child;
    },
    async stopWorker(signal = 'SIGTERM') {
      const w = service.worker;
      service.worker = undefined;
      if (!w || w.exitCode !== null || w.signalCode !== null) return;
      const exited = new Promise((r) => w.once('exit', r));
      w.kill(signal);
      await exited;
    },
    async close() {
      await service.stopWorker('SIGKILL');
      for (const a of agents) {
        for (const b of await a.processes.list()) await a.processes.remove(b.key);
        await a.app.close();
      }
      await t.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  service.startWorker();
  return service;
}

// biome-ignore lint/suspicious/noExplicitAny: operation bodies are checked by the callers
export async function waitForOperation(client: RestClient, id: string, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await client.call('GET', `/v1/operations/${id}`);
    if (r.body.status === 'succeeded' || r.body.status === 'failed') return r.body;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`operation ${id} did not finish within ${timeoutMs} ms`);
}

/**
 * A 1-broker instance in az-1 with one topic, ready: its id and internal bootstrap servers (what
 * the connector benchmarks start from).
 */
export async function instanceWithTopic(
  client: RestClient,
  topic: string,
  partitions: number,
): Promise<{ instanceId: string; bootstrap: string }> {
  const created = await client.call('POST', '/v1/instances', {
    name: 'sink',
    zones: ['az-1'],
    brokerCount: 1,
  });
  const instanceId = created.body.instance.id as string;
  if ((await waitForOperation(client, created.body.operation.id, 300_000)).status !== 'succeeded')
    throw new Error('instance create failed');
  const bootstrap = (await client.call('GET', `/v1/instances/${instanceId}`)).body.bootstrapServers.find(
    (b: { route: string }) => b.route === 'internal',
  ).servers as string;
  const t = await client.call('POST', `/v1/instances/${instanceId}/topics`, { name: topic, partitions });
  if ((await waitForOperation(client, t.body.operation.id, 120_000)).status !== 'succeeded')
    throw new Error('topic create failed');
  return { instanceId, bootstrap };
}
