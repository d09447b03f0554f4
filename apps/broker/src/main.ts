#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Broker, resolveBrokerConfig } from '@fjord/broker';
import { pino } from 'pino';
import { CliError, parseBrokerArgs, USAGE } from './cli.js';

const log = pino({ name: 'fjord-broker', level: process.env.FJORD_LOG_LEVEL ?? 'info' });

/** One `--add-scram` spec per non-empty line. */
function scramSpecsIn(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

async function main(): Promise<void> {
  const args = parseBrokerArgs(process.argv.slice(2));
  if (args === 'help') {
    console.log(USAGE);
    return;
  }
  const propertiesText = args.configPath ? readFileSync(args.configPath, 'utf8') : undefined;
  const config = resolveBrokerConfig({
    propertiesText,
    overrides: args.overrides,
    scramUsers: [...args.scramUsers, ...args.scramFiles.flatMap(scramSpecsIn)],
  });
  for (const key of config.unknownKeys) log.warn({ key }, 'unknown configuration key ignored');
  if (config.ignoredKeys.length > 0)
    log.info({ keys: config.ignoredKeys }, 'configuration keys with no effect in Fjord');
  const broker = await Broker.start(config, log);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await broker.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (
    err instanceof CliError ||
    (err instanceof Error && (err.name === 'ConfigError' || err.constructor.name === 'SaslConfigError'))
  ) {
    console.error(err.message);
    process.exit(2);
  }
  log.fatal({ err }, 'broker failed to start');
  process.exit(1);
});
