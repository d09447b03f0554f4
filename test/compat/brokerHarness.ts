import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, resolveBrokerConfig } from '@fjord/broker';
import { pino } from 'pino';

export interface RunningBroker {
  readonly bootstrap: string;
  readonly port: number;
  readonly dataDir: string;
  readonly broker: Broker;
  /** Stops and starts the broker on the same port and data (clean shutdown). */
  restart(): Promise<RunningBroker>;
  stop(): Promise<void>;
}

/** Starts an in-process broker on a free loopback port with its own data dir. */
export async function startBroker(
  overrides: Record<string, string> = {},
  dataDir = mkdtempSync(join(tmpdir(), 'fjord-compat-')),
  port = 0,
): Promise<RunningBroker> {
  const config = resolveBrokerConfig({
    overrides: new Map(
      Object.entries({
        listeners: `PLAINTEXT://127.0.0.1:${port}`,
        'log.dirs': dataDir,
        'group.initial.rebalance.delay.ms': '0',
        'offsets.topic.num.partitions': '5',
        ...overrides,
      }),
    ),
  });
  const broker = await Broker.start(config, pino({ level: process.env.FJORD_TEST_LOG ?? 'silent' }));
  const bound = broker.port();
  const running: RunningBroker = {
    bootstrap: `127.0.0.1:${bound}`,
    port: bound,
    dataDir,
    broker,
    async restart() {
      await broker.stop();
      return startBroker(overrides, dataDir, bound);
    },
    async stop() {
      await broker.stop();
    },
  };
  return running;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
