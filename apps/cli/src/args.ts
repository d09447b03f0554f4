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

/** Request a command maps to: method, path, body; `wait` polls the returned operation. */
export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  readonly wait: boolean;
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
  fjord connectors create INSTANCE --json '{"name":…,"type":"s3-sink"|"mirror","config":{…},"secrets":{…}}'
  fjord connectors list INSTANCE | get INSTANCE ID | offsets INSTANCE ID | delete INSTANCE ID
  fjord connectors pause INSTANCE ID | resume INSTANCE ID | restart INSTANCE ID`;

function configs(args: ParsedArgs): Record<string, string> | undefined {
  const v = flag(args, 'config');
  if (v === undefined) return undefined;
  return Object.fromEntries(
    v.split(',').map((kv) => {
      const at = kv.indexOf('=');
      if (at <= 0) throw new UsageError(`--config expects k=v, got '${kv}'`);
      return [kv.slice(0, at), kv.slice(at + 1)];
    }),
  );
}

const enc = encodeURIComponent;

/** `--topic/--group/--partition` as a metric scope (query string or alarm scope). */
function scopeFlags(args: ParsedArgs): Record<string, string | number> {
  const partition = intFlag(args, 'partition');
  const topic = flag(args, 'topic');
  const group = flag(args, 'group');
  return {
    ...(topic !== undefined ? { topic } : {}),
    ...(group !== undefined ? { group } : {}),
    ...(partition !== undefined ? { partition } : {}),
  };
}

function numberFlag(args: ParsedArgs, name: string): number {
  const v = requiredFlag(args, name);
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number`);
  return n;
}

export function toRequest(args: ParsedArgs): ApiRequest {
  const [group, verb, a, b] = args.command;
  const wait = args.flags.wait === true;
  const need = (v: string | undefined, what: string) => {
    if (!v) throw new UsageError(`${group} ${verb} needs ${what}`);
    return v;
  };
  switch (`${group} ${verb}`) {
    case 'instances create': {
      const brokerCount = intFlag(args, 'brokers');
      const diskGiB = intFlag(args, 'disk');
      return {
        method: 'POST',
        path: '/v1/instances',
        body: {
          name: requiredFlag(args, 'name'),
          zones: requiredFlag(args, 'zones').split(','),
          ...(brokerCount !== undefined ? { brokerCount } : {}),
          ...(diskGiB !== undefined ? { spec: { diskGiB } } : {}),
        },
        wait,
      };
    }
    case 'instances list':
      return { method: 'GET', path: '/v1/instances?limit=100', wait: false };
    case 'instances get':
      return { method: 'GET', path: `/v1/instances/${enc(need(a, 'an instance id'))}`, wait: false };
    case 'instances delete':
      return { method: 'DELETE', path: `/v1/instances/${enc(need(a, 'an instance id'))}`, wait };
    case 'instances resize':
      return {
        method: 'POST',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/resize`,
        body: { brokerCount: intFlag(args, 'brokers') },
        wait,
      };
    case 'instances restart':
      return { method: 'POST', path: `/v1/instances/${enc(need(a, 'an instance id'))}/restart`, wait };
    case 'topics create': {
      const partitions = intFlag(args, 'partitions');
      const replicationFactor = intFlag(args, 'replication-factor');
      return {
        method: 'POST',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/topics`,
        body: {
          name: need(b, 'a topic name'),
          ...(partitions !== undefined ? { partitions } : {}),
          ...(replicationFactor !== undefined ? { replicationFactor } : {}),
          ...(configs(args) ? { configs: configs(args) } : {}),
        },
        wait,
      };
    }
    case 'topics list':
      return {
        method: 'GET',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/topics?limit=100`,
        wait: false,
      };
    case 'topics get':
      return {
        method: 'GET',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/topics/${enc(need(b, 'a topic name'))}`,
        wait: false,
      };
    case 'topics delete':
      return {
        method: 'DELETE',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/topics/${enc(need(b, 'a topic name'))}`,
        wait,
      };
    case 'topics alter': {
      const partitions = intFlag(args, 'partitions');
      return {
        method: 'PATCH',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/topics/${enc(need(b, 'a topic name'))}`,
        body: {
          ...(partitions !== undefined ? { partitions } : {}),
          ...(configs(args) ? { configs: configs(args) } : {}),
        },
        wait,
      };
    }
    case 'operations get':
      return { method: 'GET', path: `/v1/operations/${enc(need(a, 'an operation id'))}`, wait: false };
    case 'metrics list':
      return { method: 'GET', path: '/v1/monitoring/metrics', wait: false };
    case 'metrics query': {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(scopeFlags(args))) q.set(k, String(v));
      for (const k of ['from', 'to', 'step']) {
        const v = flag(args, k);
        if (v !== undefined) q.set(k, v);
      }
      const query = q.toString();
      return {
        method: 'GET',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/metrics/${enc(need(b, 'a metric name'))}${query ? `?${query}` : ''}`,
        wait: false,
      };
    }
    case 'channels create':
      return {
        method: 'POST',
        path: '/v1/notification-channels',
        body: { name: requiredFlag(args, 'name'), type: 'webhook', url: requiredFlag(args, 'url') },
        wait: false,
      };
    case 'channels list':
      return { method: 'GET', path: '/v1/notification-channels?limit=100', wait: false };
    case 'channels delete':
      return {
        method: 'DELETE',
        path: `/v1/notification-channels/${enc(need(a, 'a channel id'))}`,
        wait: false,
      };
    case 'alarms create': {
      const duration = intFlag(args, 'duration');
      const severity = flag(args, 'severity');
      const channels = flag(args, 'channels');
      return {
        method: 'POST',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/alarm-policies`,
        body: {
          name: requiredFlag(args, 'name'),
          metric: requiredFlag(args, 'metric'),
          scope: scopeFlags(args),
          comparison: requiredFlag(args, 'comparison'),
          threshold: numberFlag(args, 'threshold'),
          ...(duration !== undefined ? { durationSeconds: duration } : {}),
          ...(severity !== undefined ? { severity } : {}),
          ...(channels !== undefined ? { channelIds: channels.split(',') } : {}),
        },
        wait: false,
      };
    }
    case 'alarms list':
      return {
        method: 'GET',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/alarm-policies?limit=100`,
        wait: false,
      };
    case 'alarms get':
    case 'alarms delete':
      return {
        method: verb === 'get' ? 'GET' : 'DELETE',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/alarm-policies/${enc(need(b, 'an alarm policy id'))}`,
        wait: false,
      };
    case 'alarms mute':
    case 'alarms unmute':
    case 'alarms enable':
    case 'alarms disable':
      return {
        method: 'PATCH',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/alarm-policies/${enc(need(b, 'an alarm policy id'))}`,
        body:
          verb === 'mute' || verb === 'unmute' ? { muted: verb === 'mute' } : { enabled: verb === 'enable' },
        wait: false,
      };
    case 'alarms events': {
      const status = flag(args, 'status');
      return {
        method: 'GET',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/alarm-events?limit=100${status ? `&status=${enc(status)}` : ''}`,
        wait: false,
      };
    }
    case 'autoscaling set': {
      const optional = {
        targetBandwidthPercent: intFlag(args, 'target-bandwidth'),
        targetDiskPercent: intFlag(args, 'target-disk'),
        holdSeconds: intFlag(args, 'hold'),
        cooldownSeconds: intFlag(args, 'cooldown'),
      };
      const whole = (name: string) => {
        const v = intFlag(args, name);
        if (v === undefined) throw new UsageError(`--${name} is required`);
        return v;
      };
      return {
        method: 'PUT',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/autoscaling-policy`,
        body: {
          enabled: args.flags.disabled !== true,
          minBrokers: whole('min-brokers'),
          maxBrokers: whole('max-brokers'),
          minBandwidthMBps: whole('min-bandwidth'),
          maxBandwidthMBps: whole('max-bandwidth'),
          ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
        },
        wait: false,
      };
    }
    case 'autoscaling get':
    case 'autoscaling delete':
      return {
        method: verb === 'get' ? 'GET' : 'DELETE',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/autoscaling-policy`,
        wait: false,
      };
    case 'autoscaling recommend':
      return {
        method: 'GET',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/autoscaling-policy/recommendation`,
        wait: false,
      };
    case 'connectors create': {
      const json = requiredFlag(args, 'json');
      let body: unknown;
      try {
        body = JSON.parse(json);
      } catch {
        throw new UsageError('--json must be a JSON object (the connector: name, type, config, secrets)');
      }
      return {
        method: 'POST',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/connectors`,
        body,
        wait: false,
      };
    }
    case 'connectors list':
      return {
        method: 'GET',
        path: `/v1/instances/${enc(need(a, 'an instance id'))}/connectors`,
        wait: false,
      };
    case 'connectors get':
    case 'connectors offsets':
    case 'connectors delete':
    case 'connectors pause':
    case 'connectors resume':
    case 'connectors restart': {
      const one = `/v1/instances/${enc(need(a, 'an instance id'))}/connectors/${enc(need(b, 'a connector id'))}`;
      if (verb === 'get') return { method: 'GET', path: one, wait: false };
      if (verb === 'offsets') return { method: 'GET', path: `${one}/offsets`, wait: false };
      if (verb === 'delete') return { method: 'DELETE', path: one, wait: false };
      return { method: 'POST', path: `${one}/${verb}`, wait: false };
    }
    default:
      throw new UsageError(USAGE);
  }
}
