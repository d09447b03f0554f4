#!/usr/bin/env node
import { parsePortRange } from '@fjord/fleet';
import { buildZoneAgent } from './agent.js';

const env = process.env;
const zone = env.FJORD_ZONE;
const secret = env.FJORD_AGENT_SECRET;
if (!zone || !secret) {
  console.error('FJORD_ZONE and FJORD_AGENT_SECRET must be set');
  process.exit(2);
}
const { app } = await buildZoneAgent({
  zone,
  secret,
  host: env.FJORD_AGENT_HOST ?? '127.0.0.1',
  port: Number(env.FJORD_AGENT_PORT ?? 0),
  dataDir: env.FJORD_AGENT_DATA_DIR ?? `./.service/zones/${zone}`,
  logger: true,
  ...(env.FJORD_BROKER_MAIN ? { brokerMain: env.FJORD_BROKER_MAIN } : {}),
  // Broker ports from a range of their own (e.g. 20000-29999), clear of the OS's ephemeral ports.
  ...(env.FJORD_BROKER_PORTS ? { brokerPorts: parsePortRange(env.FJORD_BROKER_PORTS) } : {}),
});
await app.listen({ host: env.FJORD_AGENT_HOST ?? '127.0.0.1', port: Number(env.FJORD_AGENT_PORT ?? 0) });
// Brokers are not stopped here: they outlive the agent and are found again from their pid files.
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.on(signal, () => void app.close().then(() => process.exit(0)));
