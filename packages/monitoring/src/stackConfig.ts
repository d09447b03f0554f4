import { stringify } from 'yaml';
import { BROKER_JOB, CONNECT_JOB } from './promql.js';

export interface PrometheusConfigOptions {
  /** The control plane's API, which serves target discovery (`/internal/prometheus/targets`). */
  readonly apiUrl: string;
  /** File holding the internal token the API wants on `/internal/*` (0600). */
  readonly internalTokenFile: string;
  /** File holding the zone agents' shared secret (their `/metrics` is behind it). */
  readonly agentSecretFile: string;
  /** `host:port` of the Alertmanager. */
  readonly alertmanager: string;
  /** Directory of the rule files the worker writes. */
  readonly rulesDir: string;
  /** `host:port` of the worker's metrics endpoint, when it serves one. */
  readonly worker?: string;
  readonly scrapeIntervalSeconds: number;
  readonly evaluationIntervalSeconds: number;
  /** How often target lists are fetched again (a new or deleted instance shows up this fast). */
  readonly discoveryRefreshSeconds: number;
}

/** prometheus.yml for the control plane's Prometheus. */
export function renderPrometheusConfig(o: PrometheusConfigOptions): string {
  const api = new URL(o.apiUrl);
  const sd = (kind: string) => ({
    url: new URL(`/internal/prometheus/targets?kind=${kind}`, o.apiUrl).toString(),
    refresh_interval: `${o.discoveryRefreshSeconds}s`,
    // Prometheus 2.42's HTTP discovery leaves out the default type: spelled out, it sends `Bearer`.
    authorization: { type: 'Bearer', credentials_file: o.internalTokenFile },
  });
  const config = {
    global: {
      scrape_interval: `${o.scrapeIntervalSeconds}s`,
      scrape_timeout: `${Math.max(1, Math.min(10, o.scrapeIntervalSeconds))}s`,
      evaluation_interval: `${o.evaluationIntervalSeconds}s`,
    },
    rule_files: [`${o.rulesDir}/*.yml`],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [o.alertmanager] }] }] },
    scrape_configs: [
      { job_name: BROKER_JOB, http_sd_configs: [sd('broker')] },
      // Connector series carry the Fjord instance they work for in `instance`: kept as exported.
      { job_name: CONNECT_JOB, honor_labels: true, http_sd_configs: [sd('connect')] },
      {
        job_name: 'fjord-zone-agents',
        http_sd_configs: [sd('agent')],
        authorization: { credentials_file: o.agentSecretFile },
      },
      {
        job_name: 'fjord-api',
        metrics_path: '/internal/metrics',
        scheme: api.protocol.replace(':', ''),
        authorization: { credentials_file: o.internalTokenFile },
        static_configs: [{ targets: [api.host], labels: { component: 'api' } }],
      },
      ...(o.worker
        ? [
            {
              job_name: 'fjord-worker',
              static_configs: [{ targets: [o.worker], labels: { component: 'worker' } }],
            },
          ]
        : []),
    ],
  };
  return `# Written by Fjord; changes are overwritten.\n${stringify(config)}`;
}

export interface AlertmanagerConfigOptions {
  readonly apiUrl: string;
  readonly internalTokenFile: string;
  /** How long Alertmanager gathers a new alert's group before the first notification. */
  readonly groupWaitSeconds: number;
  readonly groupIntervalSeconds: number;
}

/**
 * alertmanager.yml: every alert goes to the control plane's receiver, one group per alert
 * (`group_by: ['...']`), resolutions included. Alertmanager's repeats are expected and are
 * deduplicated by the receiver, which notifies users once per state change.
 */
export function renderAlertmanagerConfig(o: AlertmanagerConfigOptions): string {
  const config = {
    route: {
      receiver: 'fjord-control-plane',
      group_by: ['...'],
      group_wait: `${o.groupWaitSeconds}s`,
      group_interval: `${o.groupIntervalSeconds}s`,
      repeat_interval: '1h',
    },
    receivers: [
      {
        name: 'fjord-control-plane',
        webhook_configs: [
          {
            url: new URL('/internal/alertmanager/alerts', o.apiUrl).toString(),
            send_resolved: true,
            http_config: { authorization: { credentials_file: o.internalTokenFile } },
          },
        ],
      },
    ],
  };
  return `# Written by Fjord; changes are overwritten.\n${stringify(config)}`;
}
