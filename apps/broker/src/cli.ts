/**
 * Command-line flags of the broker daemon. Flags override single properties of the
 * server.properties file, so an existing Kafka config works unchanged and one-off changes
 * need no file edits.
 */
export interface BrokerCliOptions {
  readonly configPath?: string;
  readonly overrides: Map<string, string>;
  /** `--add-scram` specs, kafka-storage's syntax. */
  readonly scramUsers: string[];
  /** `--add-scram-file` paths: the same specs, one per line, kept off the command line. */
  readonly scramFiles: string[];
}

export class CliError extends Error {}

const USAGE = `Usage: fjord-broker [--config server.properties] [options]
  --config PATH            Kafka-style server.properties to read
  --override KEY=VALUE     set one property (repeatable)
  --listen HOST:PORT       shorthand for --override listeners=PLAINTEXT://HOST:PORT
  --data-dir DIR           shorthand for --override log.dirs=DIR
  --node-id N              shorthand for --override node.id=N
  --add-scram SPEC         SCRAM user, e.g. 'SCRAM-SHA-256=[name=alice,password=alice-secret]' (repeatable;
                           visible to every local user in ps: prefer --add-scram-file)
  --add-scram-file PATH    SCRAM users, one SPEC per line, from a file only its owner reads (repeatable)
  --help                   show this help`;

export function parseBrokerArgs(argv: readonly string[]): BrokerCliOptions | 'help' {
  const overrides = new Map<string, string>();
  const scramUsers: string[] = [];
  const scramFiles: string[] = [];
  let configPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const [flag, inline] =
      arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) throw new CliError(`${flag} needs a value\n${USAGE}`);
      return next;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--config':
        configPath = value();
        break;
      case '--override': {
        const kv = value();
        const at = kv.indexOf('=');
        if (at <= 0) throw new CliError(`--override expects KEY=VALUE, got '${kv}'`);
        overrides.set(kv.slice(0, at), kv.slice(at + 1));
        break;
      }
      case '--listen':
        overrides.set('listeners', `PLAINTEXT://${value()}`);
        break;
      case '--data-dir':
        overrides.set('log.dirs', value());
        break;
      case '--node-id':
        overrides.set('node.id', value());
        break;
      case '--add-scram':
        scramUsers.push(value());
        break;
      case '--add-scram-file':
        scramFiles.push(value());
        break;
      default:
        throw new CliError(`Unknown argument '${arg}'\n${USAGE}`);
    }
  }
  return { configPath, overrides, scramUsers, scramFiles };
}

export { USAGE };
