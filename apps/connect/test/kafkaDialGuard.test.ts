import { createServer, type Server } from 'node:net';
import { parseAllowedNetworks, RefusedTarget } from '@fjord/egress';
import { freePorts } from '@fjord/fleet';
import { type RunningBroker, startBroker } from '@fjord/test-support/broker';
import { Admin } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardKafkaDials, INSTANCE_DIAL } from '../src/kafkaDialGuard.js';
import { CLIENT_DEFAULTS } from '../src/kafkaEndpoint.js';
import { taskFailureReason } from '../src/taskFailureReason.js';

/**
 * The guard on the Kafka client's own sockets, with the real client and a real listener: a refused
 * address is never connected to (the listener counts what it accepts), by literal or by name.
 */
let server: Server;
let port = 0;
let accepted = 0;
let uninstall: () => void;
let broker: RunningBroker | undefined;

beforeAll(async () => {
  server = createServer((s) => {
    accepted++;
    s.destroy(); // not Kafka: the client fails after connecting, which is all these tests need
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  uninstall = guardKafkaDials(parseAllowedNetworks('127.0.0.2/32'));
});
afterAll(async () => {
  uninstall?.();
  await broker?.stop();
  await new Promise((r) => server.close(r));
});

/** What a metadata request through a fresh client ends with. */
async function dial(host: string, context?: unknown): Promise<unknown> {
  const admin = new Admin({
    clientId: 'dial-guard-test',
    bootstrapBrokers: [`${host}:${port}`],
    ...(context ? { context } : {}),
    ...CLIENT_DEFAULTS,
  });
  try {
    await admin.metadata({ topics: [] });
    return undefined;
  } catch (e) {
    return e;
  } finally {
    await admin.close().catch(() => {});
  }
}

describe('the Kafka dial guard', () => {
  it('never connects to a refused literal address or name, and says why', async () => {
    const before = accepted;
    const literal = await dial('127.0.0.1');
    expect(taskFailureReason(literal)).toBe('127.0.0.1 is not a public address (loopback)');
    const named = await dial('localhost');
    expect(taskFailureReason(named)).toMatch(
      /^localhost resolves to (127\.0\.0\.1|::1), not a public address/,
    );
    expect(accepted).toBe(before);
  });

  it('lets allowed networks and the instance’s own clients through', async () => {
    const before = accepted;
    const allowed = await dial('127.0.0.2'); // in the allowed network (and on loopback: the listener is not)
    expect(taskFailureReason(allowed)).not.toMatch(/not a public address/);
    const instance = await dial('127.0.0.1', INSTANCE_DIAL);
    expect(instance).toBeDefined(); // the listener is not Kafka…
    expect(taskFailureReason(instance)).not.toMatch(/not a public address/);
    expect(accepted).toBe(before + 1); // …but it was reached, by the instance's client only
  });

  it('judges the brokers a cluster advertises, not only its bootstrap servers', async () => {
    // A real broker, reached at an allowed address, that names itself at a refused one (127.0.0.3).
    const [port] = await freePorts('127.0.0.1', 1);
    broker = await startBroker({
      listeners: `PLAINTEXT://127.0.0.2:${port}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.3:${port}`,
    });
    const admin = new Admin({
      clientId: 'dial-guard-test',
      bootstrapBrokers: [`127.0.0.2:${port}`],
      ...CLIENT_DEFAULTS,
    });
    try {
      const md = await admin.metadata({ topics: [] }); // through the bootstrap connection
      expect([...md.brokers.values()].map((b) => b.host)).toEqual(['127.0.0.3']);
      // ListGroups goes to every broker the metadata named (as the mirror's checkpoints do).
      const failed = await admin.listGroups().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(taskFailureReason(failed)).toBe('127.0.0.3 is not a public address (loopback)');
    } finally {
      await admin.close().catch(() => {});
    }
  });

  it('finds a refusal however deep the client wrapped it', () => {
    const refused = new RefusedTarget('10.0.0.1 is not a public address (private)');
    const wrapped = Object.assign(new Error('Cannot connect to any broker.'), {
      errors: [new Error('Connection to 10.0.0.1:9092 failed.', { cause: refused })],
    });
    expect(taskFailureReason(wrapped)).toBe(refused.message);
    expect(taskFailureReason(new Error('boom'))).toBe('boom');
  });
});
