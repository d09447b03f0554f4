/** `fjord <group> <verb> [positionals] [--flag value | --flag]`, parsed without I/O. */
export interface ParsedArgs {
  readonly command: string[];
  readonly flags: Record<string, string | true>;
}

export class UsageError extends Error {}

/** One-letter flags and the long flag each stands for. */
const SHORT_FLAGS: Readonly<Record<string, string>> = { '-f': '--file' };

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const command: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = SHORT_FLAGS[argv[i]!] ?? argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 2) flags[a.slice(2, eq)] = a.slice(eq + 1);
      else {
        const next = argv[i + 1];
        if (next !== undefined && !next.startsWith('--')) {
          flags[a.slice(2)] = next;
          i++;
        } else flags[a.slice(2)] = true;
      }
    } else command.push(a);
  }
  return { command, flags };
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

export function requiredFlag(args: ParsedArgs, name: string): string {
  const v = flag(args, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

export function intFlag(args: ParsedArgs, name: string): number | undefined {
  const v = flag(args, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number`);
  return Number(v);
}

export const USAGE = `fjord — the Fjord control plane from the command line

  fjord login --api URL --key KEY_ID --secret SECRET
  fjord plan -f fjord.yaml [--prune] [--detailed-exitcode]   (exit 0 no changes, 2 changes, 1 error)
  fjord apply -f fjord.yaml [--prune] [--auto-approve] [--concurrency N]   (deletes what the file leaves out only with --prune)
  fjord destroy -f fjord.yaml [--auto-approve]               (deletes what the file declares)
  fjord import [--instance NAME,...] > fjord.yaml             (passwords and connector secrets become \${env:FJORD_…} references)
  fjord instances create --name NAME --zones az-1,az-2,az-3 [--brokers N] [--disk GIB] [--wait]
  fjord instances list | get ID | delete ID [--wait]
  fjord instances resize ID --brokers N [--wait]   (more or fewer brokers)
  fjord instances restart ID [--wait]
  fjord topics create INSTANCE NAME [--partitions N] [--replication-factor N] [--config k=v,...] [--wait]
  fjord topics list INSTANCE | get INSTANCE NAME | delete INSTANCE NAME [--wait]
  fjord topics alter INSTANCE NAME [--partitions N] [--config k=v,...] [--wait]
  fjord operations get ID
  fjord audit verify [--account ID]   (fetches the audit export and checks its hash chain; exit 1 names the first broken event)
  fjord metrics list
  fjord metrics query INSTANCE METRIC [--topic T] [--group G] [--partition N] [--from TIME] [--to TIME] [--step SECONDS]
  fjord channels create --name NAME --url URL | list | delete ID
  fjord alarms create INSTANCE --name NAME --metric METRIC --comparison '>' --threshold N [--duration SECONDS]
               [--severity info|warning|critical] [--channels ID,...] [--topic T] [--group G] [--partition N]
  fjord alarms list INSTANCE | get INSTANCE ID | delete INSTANCE ID | events INSTANCE [--status firing|resolved]
  fjord alarms mute INSTANCE ID | unmute INSTANCE ID | enable INSTANCE ID | disable INSTANCE ID
  fjord autoscaling set INSTANCE --min-brokers N --max-brokers N --min-bandwidth MBPS --max-bandwidth MBPS
               [--target-bandwidth PERCENT] [--target-disk PERCENT] [--hold SECONDS] [--cooldown SECONDS] [--disabled]
  fjord autoscaling get INSTANCE | delete INSTANCE | recommend INSTANCE   (what it would do now, and why)
  fjord connectors create INSTANCE --json '{"name":…,"type":"s3-sink"|"mirror"|"postgres-sink","config":{…},"secrets":{…}}'
  fjord connectors list INSTANCE | get INSTANCE ID | offsets INSTANCE ID | delete INSTANCE ID
  fjord connectors pause INSTANCE ID | resume INSTANCE ID | restart INSTANCE ID`;
