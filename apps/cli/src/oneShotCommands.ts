import { Comparison, CreateConnector, MetricName, Severity } from '@fjord/contracts';
import type { ApiAnswer, StrictClient } from './apiClient.js';
import { flag, intFlag, type ParsedArgs, requiredFlag, USAGE, UsageError } from './args.js';

/**
 * A one-shot command: `call` checks the arguments (a UsageError before any request), then sends
 * the one request the command stands for through the client generated from the OpenAPI
 * document, so a path, parameter or body the API does not accept fails to compile.
 */
export interface OneShotCommand {
  readonly call: (api: StrictClient, args: ParsedArgs) => Promise<ApiAnswer>;
  /** `--wait` polls the operation the answer names until it ends. */
  readonly waits?: true;
}

/** The positional after `group verb` (index 0 or 1), or a UsageError naming what is missing. */
function positional(args: ParsedArgs, index: 0 | 1, what: string): string {
  const v = args.command[2 + index];
  if (!v) throw new UsageError(`${args.command[0]} ${args.command[1]} needs ${what}`);
  return v;
}

const instanceId = (args: ParsedArgs) => positional(args, 0, 'an instance id');
const instancePath = (args: ParsedArgs) => ({ path: { instanceId: instanceId(args) } });

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

function numberFlag(args: ParsedArgs, name: string): number {
  const v = requiredFlag(args, name);
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number`);
  return n;
}

function wholeFlag(args: ParsedArgs, name: string): number {
  const v = intFlag(args, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

/** A value the API's schema lists (an enum), checked here so the request type holds. */
function choice<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`${what} must be one of ${allowed.join(', ')}; got '${value}'`);
  return value as T;
}

function optionalChoice<T extends string>(
  args: ParsedArgs,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const v = flag(args, name);
  return v === undefined ? undefined : choice(v, allowed, `--${name}`);
}

function metricName(value: string): MetricName {
  if (!MetricName.safeParse(value).success)
    throw new UsageError(`'${value}' is not a metric; \`fjord metrics list\` names them`);
  return value as MetricName;
}

function connectorJson(args: ParsedArgs): CreateConnector {
  let json: unknown;
  try {
    json = JSON.parse(requiredFlag(args, 'json'));
  } catch {
    throw new UsageError('--json must be a JSON object (the connector: name, type, config, secrets)');
  }
  const checked = CreateConnector.safeParse(json);
  if (!checked.success) {
    const first = checked.error.issues[0]!;
    throw new UsageError(`--json: ${first.path.join('.') || 'the connector'}: ${first.message}`);
  }
  // Sent as given: the API fills in the defaults, as it does for any other client.
  return json as CreateConnector;
}

const connectorPath = (args: ParsedArgs) => ({
  path: { instanceId: instanceId(args), connectorId: positional(args, 1, 'a connector id') },
});
const topicPath = (args: ParsedArgs) => ({
  path: { instanceId: instanceId(args), topic: positional(args, 1, 'a topic name') },
});
const alarmPath = (args: ParsedArgs) => ({
  path: { instanceId: instanceId(args), alarmPolicyId: positional(args, 1, 'an alarm policy id') },
});

const alarmSwitch =
  (patch: { muted: boolean } | { enabled: boolean }): OneShotCommand['call'] =>
  (api, args) =>
    api.PATCH('/v1/instances/{instanceId}/alarm-policies/{alarmPolicyId}', {
      params: alarmPath(args),
      body: patch,
    });

const connectorTransition =
  (verb: 'pause' | 'resume' | 'restart'): OneShotCommand['call'] =>
  (api, args) => {
    const params = connectorPath(args);
    if (verb === 'pause')
      return api.POST('/v1/instances/{instanceId}/connectors/{connectorId}/pause', { params });
    if (verb === 'resume')
      return api.POST('/v1/instances/{instanceId}/connectors/{connectorId}/resume', { params });
    return api.POST('/v1/instances/{instanceId}/connectors/{connectorId}/restart', { params });
  };

/** `fjord <group> <verb>` → the command; USAGE lists them for people. */
export const ONE_SHOT_COMMANDS: Readonly<Record<string, OneShotCommand>> = {
  'instances create': {
    waits: true,
    call: (api, args) => {
      const diskGiB = intFlag(args, 'disk');
      return api.POST('/v1/instances', {
        body: {
          name: requiredFlag(args, 'name'),
          zones: requiredFlag(args, 'zones').split(','),
          brokerCount: intFlag(args, 'brokers'),
          spec: diskGiB !== undefined ? { diskGiB } : undefined,
        },
      });
    },
  },
  'instances list': { call: (api) => api.GET('/v1/instances', { params: { query: { limit: 100 } } }) },
  'instances get': {
    call: (api, args) => api.GET('/v1/instances/{instanceId}', { params: instancePath(args) }),
  },
  'instances delete': {
    waits: true,
    call: (api, args) => api.DELETE('/v1/instances/{instanceId}', { params: instancePath(args) }),
  },
  'instances resize': {
    waits: true,
    call: (api, args) => {
      const params = instancePath(args);
      return api.POST('/v1/instances/{instanceId}/resize', {
        params,
        body: { brokerCount: wholeFlag(args, 'brokers') },
      });
    },
  },
  'instances restart': {
    waits: true,
    call: (api, args) => api.POST('/v1/instances/{instanceId}/restart', { params: instancePath(args) }),
  },
  'topics create': {
    waits: true,
    call: (api, args) => {
      const params = instancePath(args);
      const name = positional(args, 1, 'a topic name');
      return api.POST('/v1/instances/{instanceId}/topics', {
        params,
        body: {
          name,
          partitions: intFlag(args, 'partitions'),
          replicationFactor: intFlag(args, 'replication-factor'),
          configs: configs(args),
        },
      });
    },
  },
  'topics list': {
    call: (api, args) =>
      api.GET('/v1/instances/{instanceId}/topics', {
        params: { ...instancePath(args), query: { limit: 100 } },
      }),
  },
  'topics get': {
    call: (api, args) => api.GET('/v1/instances/{instanceId}/topics/{topic}', { params: topicPath(args) }),
  },
  'topics delete': {
    waits: true,
    call: (api, args) => api.DELETE('/v1/instances/{instanceId}/topics/{topic}', { params: topicPath(args) }),
  },
  'topics alter': {
    waits: true,
    call: (api, args) => {
      const params = topicPath(args);
      return api.PATCH('/v1/instances/{instanceId}/topics/{topic}', {
        params,
        body: { partitions: intFlag(args, 'partitions'), configs: configs(args) },
      });
    },
  },
  'operations get': {
    call: (api, args) =>
      api.GET('/v1/operations/{operationId}', {
        params: { path: { operationId: positional(args, 0, 'an operation id') } },
      }),
  },
  'metrics list': { call: (api) => api.GET('/v1/monitoring/metrics', {}) },
  'metrics query': {
    call: (api, args) => {
      const id = instanceId(args);
      const metric = metricName(positional(args, 1, 'a metric name'));
      return api.GET('/v1/instances/{instanceId}/metrics/{metric}', {
        params: {
          path: { instanceId: id, metric },
          query: {
            topic: flag(args, 'topic'),
            group: flag(args, 'group'),
            partition: intFlag(args, 'partition'),
            from: flag(args, 'from'),
            to: flag(args, 'to'),
            step: intFlag(args, 'step'),
          },
        },
      });
    },
  },
  'channels create': {
    call: (api, args) =>
      api.POST('/v1/notification-channels', {
        body: { name: requiredFlag(args, 'name'), type: 'webhook', url: requiredFlag(args, 'url') },
      }),
  },
  'channels list': {
    call: (api) => api.GET('/v1/notification-channels', { params: { query: { limit: 100 } } }),
  },
  'channels delete': {
    call: (api, args) =>
      api.DELETE('/v1/notification-channels/{channelId}', {
        params: { path: { channelId: positional(args, 0, 'a channel id') } },
      }),
  },
  'alarms create': {
    call: (api, args) => {
      const params = instancePath(args);
      const duration = intFlag(args, 'duration');
      const severity = optionalChoice(args, 'severity', Severity.options);
      const channels = flag(args, 'channels');
      return api.POST('/v1/instances/{instanceId}/alarm-policies', {
        params,
        body: {
          name: requiredFlag(args, 'name'),
          metric: metricName(requiredFlag(args, 'metric')),
          scope: {
            topic: flag(args, 'topic'),
            group: flag(args, 'group'),
            partition: intFlag(args, 'partition'),
          },
          comparison: choice(requiredFlag(args, 'comparison'), Comparison.options, '--comparison'),
          threshold: numberFlag(args, 'threshold'),
          durationSeconds: duration,
          severity,
          channelIds: channels?.split(','),
        },
      });
    },
  },
  'alarms list': {
    call: (api, args) =>
      api.GET('/v1/instances/{instanceId}/alarm-policies', {
        params: { ...instancePath(args), query: { limit: 100 } },
      }),
  },
  'alarms get': {
    call: (api, args) =>
      api.GET('/v1/instances/{instanceId}/alarm-policies/{alarmPolicyId}', { params: alarmPath(args) }),
  },
  'alarms delete': {
    call: (api, args) =>
      api.DELETE('/v1/instances/{instanceId}/alarm-policies/{alarmPolicyId}', { params: alarmPath(args) }),
  },
  'alarms mute': { call: alarmSwitch({ muted: true }) },
  'alarms unmute': { call: alarmSwitch({ muted: false }) },
  'alarms enable': { call: alarmSwitch({ enabled: true }) },
  'alarms disable': { call: alarmSwitch({ enabled: false }) },
  'alarms events': {
    call: (api, args) => {
      const params = instancePath(args);
      const status = optionalChoice(args, 'status', ['firing', 'resolved'] as const);
      return api.GET('/v1/instances/{instanceId}/alarm-events', {
        params: { ...params, query: { limit: 100, status } },
      });
    },
  },
  'autoscaling set': {
    call: (api, args) => {
      const params = instancePath(args);
      return api.PUT('/v1/instances/{instanceId}/autoscaling-policy', {
        params,
        body: {
          enabled: args.flags.disabled !== true,
          minBrokers: wholeFlag(args, 'min-brokers'),
          maxBrokers: wholeFlag(args, 'max-brokers'),
          minBandwidthMBps: wholeFlag(args, 'min-bandwidth'),
          maxBandwidthMBps: wholeFlag(args, 'max-bandwidth'),
          targetBandwidthPercent: intFlag(args, 'target-bandwidth'),
          targetDiskPercent: intFlag(args, 'target-disk'),
          holdSeconds: intFlag(args, 'hold'),
          cooldownSeconds: intFlag(args, 'cooldown'),
        },
      });
    },
  },
  'autoscaling get': {
    call: (api, args) =>
      api.GET('/v1/instances/{instanceId}/autoscaling-policy', { params: instancePath(args) }),
  },
  'autoscaling delete': {
    call: (api, args) =>
      api.DELETE('/v1/instances/{instanceId}/autoscaling-policy', { params: instancePath(args) }),
  },
  'autoscaling recommend': {
    call: (api, args) =>
      api.GET('/v1/instances/{instanceId}/autoscaling-policy/recommendation', {
        params: instancePath(args),
      }),
  },
  'connectors create': {
    call: (api, args) => {
      const params = instancePath(args);
      return api.POST('/v1/instances/{instanceId}/connectors', { params, body: connectorJson(args) });
    },
  },
  'connectors list': {
    call: (api, args) => api.GET('/v1/instances/{instanceId}/connectors', { params: instancePath(args) }),
  },
  'connectors get': {
    call: (api, args) =>
      api.GET('/v1/instances/{instanceId}/connectors/{connectorId}', { params: connectorPath(args) }),
  },
  'connectors offsets': {
    call: (api, args) =>
      api.GET('/v1/instances/{instanceId}/connectors/{connectorId}/offsets', {
        params: connectorPath(args),
      }),
  },
  'connectors delete': {
    call: (api, args) =>
      api.DELETE('/v1/instances/{instanceId}/connectors/{connectorId}', { params: connectorPath(args) }),
  },
  'connectors pause': { call: connectorTransition('pause') },
  'connectors resume': { call: connectorTransition('resume') },
  'connectors restart': { call: connectorTransition('restart') },
};

/** The command `fjord <group> <verb>` names, or a UsageError carrying USAGE. */
export function oneShotCommand(args: ParsedArgs): OneShotCommand {
  const command = ONE_SHOT_COMMANDS[`${args.command[0]} ${args.command[1]}`];
  if (!command) throw new UsageError(USAGE);
  return command;
}
