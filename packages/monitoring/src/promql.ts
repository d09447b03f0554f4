import type { MetricName, MetricScope } from '@fjord/contracts';

/**
 * PromQL for the metric catalogue. Every query is built here from a validated metric name and
 * scope; label values are escaped as PromQL string literals, and the caller's instance label is
 * always pinned, so no request can widen a query to another instance (or inject a matcher).
 */

/** Series names the brokers export (the JMX exporter's names for Kafka's MBeans, kafka-exporter's for lag). */
export const SERIES = {
  bytesIn: 'kafka_server_brokertopicmetrics_bytesin_total',
  bytesOut: 'kafka_server_brokertopicmetrics_bytesout_total',
  messagesIn: 'kafka_server_brokertopicmetrics_messagesin_total',
  failedProduce: 'kafka_server_brokertopicmetrics_failedproducerequests_total',
  failedFetch: 'kafka_server_brokertopicmetrics_failedfetchrequests_total',
  requests: 'kafka_network_requestmetrics_requests_total',
  connections: 'kafka_server_socketservermetrics_connection_count',
  leaders: 'kafka_server_replicamanager_leadercount',
  underReplicated: 'kafka_server_replicamanager_underreplicatedpartitions',
  offline: 'kafka_controller_kafkacontroller_offlinepartitionscount',
  logSize: 'kafka_log_log_size',
  logEndOffset: 'kafka_log_log_logendoffset',
  logStartOffset: 'kafka_log_log_logstartoffset',
  dirUsed: 'kafka_log_logdir_used_bytes',
  dirTotal: 'kafka_log_logdir_total_bytes',
  groupLag: 'kafka_consumergroup_lag',
  groupOffset: 'kafka_consumergroup_current_offset',
  diskBudgetUsed: 'fjord_disk_budget_used_bytes',
  diskBudget: 'fjord_disk_budget_bytes',
  diskHighWaterHits: 'fjord_disk_budget_high_water_hits_total',
  connectorRecords: 'fjord_connect_records_total',
  connectorLag: 'fjord_connect_lag_records',
  connectorErrors: 'fjord_connect_task_errors_total',
} as const;

/** The job whose targets are brokers (the scrape config names it). */
export const BROKER_JOB = 'fjord-brokers';
/** The job whose targets are connector workers. */
export const CONNECT_JOB = 'fjord-connect';

/** A PromQL double-quoted string literal (Go escaping rules). */
export function promString(value: string): string {
  let out = '"';
  for (const ch of value) {
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return `${out}"`;
}

type Matchers = Readonly<Record<string, string | { readonly not: string }>>;

function selector(series: string, matchers: Matchers): string {
  const parts = Object.entries(matchers).map(([label, v]) =>
    typeof v === 'string' ? `${label}=${promString(v)}` : `${label}!=${promString(v.not)}`,
  );
  return `${series}{${parts.join(',')}}`;
}

export interface QueryScope extends MetricScope {
  readonly instanceId: string;
}

export interface BuiltQuery {
  /** The PromQL expression. */
  readonly expr: string;
  /** Labels each resulting series is told apart by. */
  readonly by: readonly string[];
}

/**
 * The PromQL of a catalogue metric for one instance. Rates use `windowSeconds`, which callers
 * keep at several scrape intervals so a rate always sees enough samples.
 */
export function metricQuery(metric: MetricName, scope: QueryScope, windowSeconds: number): BuiltQuery {
  const inst = { instance: scope.instanceId };
  const w = `[${Math.max(1, Math.round(windowSeconds))}s]`;
  // Broker-wide aggregates are the series without a topic label (as the JMX exporter shows them).
  const brokerWide = { ...inst, topic: '' };
  const topicSel: Matchers =
    scope.topic !== undefined ? { ...inst, topic: scope.topic } : { ...inst, topic: { not: '' } };
  const partitionSel: Matchers = {
    ...topicSel,
    ...(scope.partition !== undefined ? { partition: String(scope.partition) } : {}),
  };
  const groupSel: Matchers = { ...inst, ...(scope.group !== undefined ? { group: scope.group } : {}) };
  const lagSel: Matchers = { ...partitionSel, ...groupSel };
  const sumRate = (series: string, m: Matchers) => `sum(rate(${selector(series, m)}${w}))`;
  const topicRate = (series: string) => `sum by (topic) (rate(${selector(series, topicSel)}${w}))`;
  // Every replica reports its partition; one replica's figure is the partition's.
  const perPartition = (series: string) => `max by (topic, partition) (${selector(series, partitionSel)})`;

  switch (metric) {
    case 'instance.bytes_in':
      return { expr: sumRate(SERIES.bytesIn, brokerWide), by: [] };
    case 'instance.bytes_out':
      return { expr: sumRate(SERIES.bytesOut, brokerWide), by: [] };
    case 'instance.messages_in':
      return { expr: sumRate(SERIES.messagesIn, brokerWide), by: [] };
    case 'instance.failed_produce':
      return { expr: sumRate(SERIES.failedProduce, brokerWide), by: [] };
    case 'instance.failed_fetch':
      return { expr: sumRate(SERIES.failedFetch, brokerWide), by: [] };
    case 'instance.requests':
      return { expr: sumRate(SERIES.requests, inst), by: [] };
    case 'instance.connections':
      return { expr: `sum(${selector(SERIES.connections, inst)})`, by: [] };
    case 'instance.brokers_up':
      return { expr: `sum(${selector('up', { ...inst, job: BROKER_JOB })})`, by: [] };
    case 'instance.partitions':
      return { expr: `sum(${selector(SERIES.leaders, inst)})`, by: [] };
    case 'instance.under_replicated_partitions':
      return { expr: `sum(${selector(SERIES.underReplicated, inst)})`, by: [] };
    case 'instance.offline_partitions':
      return { expr: `sum(${selector(SERIES.offline, inst)})`, by: [] };
    case 'instance.disk_used_bytes':
      return { expr: `sum(${selector(SERIES.logSize, inst)})`, by: [] };
    case 'instance.disk_used_percent':
      return {
        expr: `100 * max(${selector(SERIES.dirUsed, inst)} / ${selector(SERIES.dirTotal, inst)})`,
        by: [],
      };
    case 'instance.disk_budget_used_percent':
      // Brokers without a budget report 0: left out rather than divided by.
      return {
        expr: `100 * max(${selector(SERIES.diskBudgetUsed, inst)} / (${selector(SERIES.diskBudget, inst)} > 0))`,
        by: [],
      };
    case 'instance.disk_high_water_hits':
      return { expr: `sum(increase(${selector(SERIES.diskHighWaterHits, inst)}${w}))`, by: [] };
    case 'instance.connector_records':
      return {
        expr: `sum by (connector) (rate(${selector(SERIES.connectorRecords, inst)}${w}))`,
        by: ['connector'],
      };
    case 'instance.connector_lag':
      return { expr: `sum by (connector) (${selector(SERIES.connectorLag, inst)})`, by: ['connector'] };
    case 'instance.connector_task_failures':
      return {
        expr: `sum by (connector) (increase(${selector(SERIES.connectorErrors, inst)}${w}))`,
        by: ['connector'],
      };
    case 'topic.bytes_in':
      return { expr: topicRate(SERIES.bytesIn), by: ['topic'] };
    case 'topic.bytes_out':
      return { expr: topicRate(SERIES.bytesOut), by: ['topic'] };
    case 'topic.messages_in':
      return { expr: topicRate(SERIES.messagesIn), by: ['topic'] };
    case 'topic.failed_produce':
      return { expr: topicRate(SERIES.failedProduce), by: ['topic'] };
    case 'topic.size_bytes':
      return { expr: `sum by (topic) (${perPartition(SERIES.logSize)})`, by: ['topic'] };
    case 'group.lag':
      return { expr: `sum by (group) (${selector(SERIES.groupLag, groupSel)})`, by: ['group'] };
    case 'group.max_partition_lag':
      return { expr: `max by (group) (${selector(SERIES.groupLag, groupSel)})`, by: ['group'] };
    case 'partition.size_bytes':
      return { expr: perPartition(SERIES.logSize), by: ['topic', 'partition'] };
    case 'partition.log_end_offset':
      return { expr: perPartition(SERIES.logEndOffset), by: ['topic', 'partition'] };
    case 'partition.log_start_offset':
      return { expr: perPartition(SERIES.logStartOffset), by: ['topic', 'partition'] };
    case 'partition.consumer_lag':
      return {
        expr: `max by (group, topic, partition) (${selector(SERIES.groupLag, lagSel)})`,
        by: ['group', 'topic', 'partition'],
      };
    case 'partition.consumer_offset':
      return {
        expr: `max by (group, topic, partition) (${selector(SERIES.groupOffset, lagSel)})`,
        by: ['group', 'topic', 'partition'],
      };
  }
}
