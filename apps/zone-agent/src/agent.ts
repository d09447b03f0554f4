import { timingSafeEqual } from 'node:crypto';
import { resolve } from 'node:path';
import {
  BROKER_FILE_NAME,
  type BrokerSpec,
  FleetError,
  LocalBrokerProcesses,
  type PortRange,
  type RestartPolicy,
  SECURITY_PROTOCOLS,
} from '@fjord/fleet';
import Fastify, { type FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export interface ZoneAgentOptions {
  readonly zone: string;
  readonly host: string;
  readonly port: number;
  /** Broker directories live here; brokers keep running when the agent stops. */
  readonly dataDir: string;
  readonly secret: string;
  /** Address brokers listen on (defaults to the agent's host). */
  readonly brokerHost?: string;
  readonly brokerMain?: string;
  readonly logger?: boolean;
  /** How often crashed brokers are looked for and restarted (0: not supervised). */
  readonly superviseEveryMs?: number;
  readonly restartPolicy?: RestartPolicy;
  /** Ports brokers get; unset: any free ports. */
  readonly brokerPorts?: PortRange;
}

/** apps/broker/dist/main.js of this checkout. */
export const DEFAULT_BROKER_MAIN = resolve(import.meta.dirname, '../../broker/dist/main.js');

function isSpec(v: unknown, key: string): v is BrokerSpec {
  const s = v as BrokerSpec;
  return (
    !!s &&
    s.key === key &&
    typeof s.instanceId === 'string' &&
    Number.isInteger(s.brokerId) &&
    typeof s.listeners === 'object' &&
    Object.keys(s.listeners).length > 0 &&
    Object.values(s.listeners).every((p) => (SECURITY_PROTOCOLS as readonly string[]).includes(p)) &&
    typeof s.properties === 'object' &&
    Object.entries(s.properties).every(
      ([k, val]) => /^[a-z0-9._-]+$/i.test(k) && typeof val === 'string' && !/[\r\n]/.test(val),
    ) &&
    Array.isArray(s.scramUsers) &&
    (s.files === undefined ||
      (typeof s.files === 'object' &&
        Object.entries(s.files).every(
          ([name, content]) => BROKER_FILE_NAME.test(name) && typeof content === 'string',
        )))
  );
}

/** The zone agent: HTTP in front of this host's broker processes, behind a shared secret. */
export async function buildZoneAgent(
  o: ZoneAgentOptions,
): Promise<{ app: FastifyInstance; processes: LocalBrokerProcesses }> {
  const processes = new LocalBrokerProcesses({
    zone: o.zone,
    root: o.dataDir,
    host: o.brokerHost ?? o.host,
    brokerMain: o.brokerMain ?? DEFAULT_BROKER_MAIN,
    ...(o.restartPolicy ? { restartPolicy: o.restartPolicy } : {}),
    ...(o.brokerPorts ? { portRange: o.brokerPorts } : {}),
  });
  const app = Fastify({ logger: o.logger ?? false, forceCloseConnections: true });
  // Brokers that die are restarted here, by the host that runs them; the agent adopts the brokers
  // it finds running when it starts (pid files) and supervises them from then on.
  const everyMs = o.superviseEveryMs ?? 1000;
  if (everyMs > 0) {
    const stop = processes.supervise(everyMs, (err) => app.log.error({ err }, 'supervision pass failed'));
    app.addHook('onClose', async () => stop());
  }
  const expected = Buffer.from(`Bearer ${o.secret}`);

  app.addHook('onRequest', async (req, reply) => {
    const got = Buffer.from(req.headers.authorization ?? '');
    if (got.length !== expected.length || !timingSafeEqual(got, expected))
      return reply.code(401).send({ error: 'unauthorized' });
  });
  app.setErrorHandler((err, req, reply) => {
    req.log.error({ err }, 'agent request failed');
    reply.code(err instanceof FleetError ? 409 : 500).send({ error: (err as Error).message });
  });

  const metrics = agentMetrics(processes);
  app.get('/metrics', async (_req, reply) => {
    reply.type(metrics.contentType);
    return metrics.metrics();
  });
  app.get('/health', async () => processes.health());
  app.get('/brokers', async () => ({ items: await processes.list() }));
  app.get<{ Params: { key: string } }>('/brokers/:key', async (req, reply) => {
    const h = await processes.handle(req.params.key);
    return h ?? reply.code(404).send({ error: 'no such broker' });
  });
  app.put<{ Params: { key: string } }>('/brokers/:key', async (req, reply) => {
    if (!isSpec(req.body, req.params.key))
      return reply.code(400).send({ error: 'not a broker spec for this key' });
    return processes.ensure(req.body);
  });
  app.post<{ Params: { key: string } }>('/brokers/:key/stop', async (req, reply) => {
    await processes.stop(req.params.key);
    return reply.code(204).send();
  });
  app.delete<{ Params: { key: string } }>('/brokers/:key', async (req, reply) => {
    await processes.remove(req.params.key);
    return reply.code(204).send();
  });
  return { app, processes };
}

/** The agent's metrics: its broker processes (up or not) and its own process. */
function agentMetrics(processes: LocalBrokerProcesses): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fjord_zone_agent_' });
  new Gauge({
    name: 'fjord_zone_agent_broker_restarts',
    help: 'Restarts of a broker by this agent since the agent started',
    labelNames: ['instance_id', 'broker'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const b of await processes.list())
        this.set({ instance_id: b.instanceId, broker: String(b.brokerId) }, b.restarts);
    },
  });
  new Gauge({
    name: 'fjord_zone_agent_broker_up',
    help: 'Whether a broker process this agent supervises is running and answering (1) or not (0)',
    labelNames: ['instance_id', 'broker'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const b of await processes.list())
        this.set({ instance_id: b.instanceId, broker: String(b.brokerId) }, b.running && b.reachable ? 1 : 0);
    },
  });
  return registry;
}
