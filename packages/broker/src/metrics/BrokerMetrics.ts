import { statfsSync } from 'node:fs';
import type { MetadataPublisher } from '@fjord/metadata';
import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';
import type { GroupCoordinator } from '../group/GroupCoordinator.js';
import type { DiskLimits, InstanceDiskBudget } from '../quota/InstanceDiskBudget.js';
import type { Partition } from '../replica/Partition.js';
import type { ReplicaManager } from '../replica/ReplicaManager.js';
import type { LogManager } from '../storage/LogManager.js';
import { PartitionSeries } from './PartitionSeries.js';
import type { RemoteLogEnds } from './RemoteLogEnds.js';
import { REQUEST_TIME_BUCKETS_MS, type TopicTraffic, type TrafficMetrics } from './TrafficMetrics.js';

/** The broker state scrapes read; nothing here is touched between scrapes. */
export interface BrokerMetricsSources {
  readonly traffic: TrafficMetrics;
  readonly replicas: ReplicaManager;
  readonly logs: LogManager;
  readonly diskBudget: InstanceDiskBudget;
  readonly metadata: MetadataPublisher;
  readonly groups: GroupCoordinator;
  isActiveController(): boolean;
  /** Open connections per listener name. */
  connectionCounts(): ReadonlyMap<string, number>;
  /** Connections refused by `fjord.allowed.cidrs`, per listener name. */
  refusedByAllowlist(): ReadonlyMap<string, number>;
  /** `fjord.metrics.partition.series.max`: per-partition rows per family; 0 turns them off. */
  readonly partitionSeriesMax: number;
  /** Asks leaders for the high watermarks of partitions this broker does not host (consumer lag). */
  readonly remoteEnds?: RemoteLogEnds;
}

type TrafficField = keyof TopicTraffic;

/**
 * A broker's Prometheus registry. Series carry the names the Prometheus JMX exporter gives
 * Kafka's MBeans (and kafka-exporter's for consumer lag), so dashboards built for Kafka work.
 * Traffic counters are read from TrafficMetrics' plain numbers; every gauge is computed at
 * scrape time from the replica manager, log manager, metadata image and group coordinator. The
 * per-partition families are written by PartitionSeries and follow the registry's text.
 * One registry per broker (never prom-client's global one): tests run several brokers in a process.
 */
export class BrokerMetrics {
  readonly registry = new Registry();

  constructor(private readonly s: BrokerMetricsSources) {
    const r = this.registry;
    collectDefaultMetrics({ register: r });

    const topicCounter = (name: string, help: string, field: TrafficField) =>
      new Counter({
        name,
        help,
        labelNames: ['topic'],
        registers: [r],
        collect() {
          // Rebuilt from the accumulators: counts never go backwards, deleted topics disappear.
          this.reset();
          this.inc({}, s.traffic.total[field]);
          for (const [topic, t] of s.traffic.topics) this.inc({ topic }, t[field]);
        },
      });
    const prefix = 'kafka_server_brokertopicmetrics_';
    topicCounter(`${prefix}messagesin_total`, 'Messages appended as leader', 'messagesIn');
    topicCounter(`${prefix}bytesin_total`, 'Bytes produced by clients', 'bytesIn');
    topicCounter(`${prefix}bytesout_total`, 'Bytes fetched by consumers', 'bytesOut');
    topicCounter(
      `${prefix}failedproducerequests_total`,
      'Produce partitions answered with an error',
      'failedProduce',
    );
    topicCounter(
      `${prefix}failedfetchrequests_total`,
      'Fetch partitions answered with an error',
      'failedFetch',
    );
    topicCounter(`${prefix}replicationbytesin_total`, 'Bytes appended as follower', 'replicationBytesIn');
    topicCounter(`${prefix}replicationbytesout_total`, 'Bytes fetched by followers', 'replicationBytesOut');

    new Counter({
      name: 'kafka_network_requestmetrics_requests_total',
      help: 'Requests received, by API',
      labelNames: ['request'],
      registers: [r],
      collect() {
        this.reset();
        for (const q of s.traffic.requests) if (q) this.inc({ request: q.name }, q.count);
      },
    });
    new Counter({
      name: 'kafka_network_requestmetrics_throttletimems_total',
      help: 'Milliseconds responses told clients to back off (quotas), by API',
      labelNames: ['request'],
      registers: [r],
      collect() {
        this.reset();
        for (const q of s.traffic.requests) if (q) this.inc({ request: q.name }, q.throttleMs);
      },
    });
    requestTimeHistogram(r, s.traffic);

    new Gauge({
      name: 'kafka_server_socketservermetrics_connection_count',
      help: 'Open client and broker connections, by listener',
      labelNames: ['listener'],
      registers: [r],
      collect() {
        this.reset();
        for (const [listener, n] of s.connectionCounts()) this.set({ listener }, n);
      },
    });

    new Counter({
      name: 'kafka_server_socketservermetrics_connection_refused_allowlist_total',
      help: 'Connections refused at accept because the client address is not in the listener’s fjord.allowed.cidrs',
      labelNames: ['listener'],
      registers: [r],
      collect() {
        this.reset();
        for (const [listener, n] of s.refusedByAllowlist()) this.inc({ listener }, n);
      },
    });

    const rm = 'kafka_server_replicamanager_';
    const replicaGauge = (name: string, help: string, count: (p: Partition) => boolean) =>
      new Gauge({
        name: `${rm}${name}`,
        help,
        registers: [r],
        collect() {
          let n = 0;
          for (const p of s.replicas.all()) if (count(p)) n++;
          this.set(n);
        },
      });
    replicaGauge('partitioncount', 'Partitions hosted', () => true);
    replicaGauge('leadercount', 'Partitions led', (p) => p.isLeader);
    replicaGauge(
      'underreplicatedpartitions',
      'Led partitions whose ISR is smaller than their replica set',
      (p) => p.isLeader && p.isr().length < p.state.replicas.length,
    );
    replicaGauge('offlinereplicacount', 'Hosted replicas on a failed log dir', (p) => p.offline);
    new Counter({
      name: `${rm}isrshrinks_total`,
      help: 'ISR shrinks committed while leader',
      registers: [r],
      collect() {
        this.reset();
        this.inc(s.replicas.isrChanges.shrinks);
      },
    });
    new Counter({
      name: `${rm}isrexpands_total`,
      help: 'ISR expands committed while leader',
      registers: [r],
      collect() {
        this.reset();
        this.inc(s.replicas.isrChanges.expands);
      },
    });

    const kc = 'kafka_controller_kafkacontroller_';
    new Gauge({
      name: `${kc}activecontrollercount`,
      help: '1 on the active controller, 0 elsewhere',
      registers: [r],
      collect() {
        this.set(s.isActiveController() ? 1 : 0);
      },
    });
    // As Kafka, only the active controller reports cluster-wide counts; the others say 0.
    const controllerGauge = (name: string, help: string, count: () => number) =>
      new Gauge({
        name: `${kc}${name}`,
        help,
        registers: [r],
        collect() {
          this.set(s.isActiveController() ? count() : 0);
        },
      });
    controllerGauge('offlinepartitionscount', 'Partitions without a leader', () => {
      let n = 0;
      for (const t of s.metadata.image.topicsByName.values())
        for (const p of t.partitions) if (p && p.leader < 0) n++;
      return n;
    });
    controllerGauge('globalpartitioncount', 'Partitions in the cluster', () => {
      let n = 0;
      for (const t of s.metadata.image.topicsByName.values()) n += t.partitions.length;
      return n;
    });
    controllerGauge('globaltopiccount', 'Topics in the cluster', () => s.metadata.image.topicsByName.size);

    new Gauge({
      name: 'fjord_metrics_partition_series_dropped',
      help: 'Rows left out of per-partition series by fjord.metrics.partition.series.max, by family',
      labelNames: ['family'],
      registers: [r],
      collect() {
        // The same caps PartitionSeries applies.
        let partitions = 0;
        for (const p of s.replicas.all()) if (!p.offline) partitions++;
        let rows = 0;
        for (const _ of s.groups.committedOffsets()) rows++;
        this.set({ family: 'log' }, Math.max(0, partitions - s.partitionSeriesMax));
        this.set({ family: 'consumergroup' }, Math.max(0, rows - s.partitionSeriesMax));
      },
    });
    this.logDirSeries(r);
    diskBudgetSeries(r, s.diskBudget);
    this.partitions = new PartitionSeries({ ...s, image: () => s.metadata.image });
  }

  private readonly partitions: PartitionSeries;

  /** The Prometheus text exposition of every series. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    // Topics deleted since the last scrape stop being reported (their bytes stay in the totals).
    const image = this.s.metadata.image;
    this.s.traffic.prune((t) => image.topicsByName.has(t));
    for (const p of this.s.replicas.all()) if (p.isLeader) this.s.traffic.track(p.topic);
    const [registered, partitions] = await Promise.all([this.registry.metrics(), this.partitions.render()]);
    return { contentType: this.registry.contentType, body: `${registered}\n${partitions}` };
  }

  /** Capacity per log dir from statfs (the file system holding it), and whether it is online. */
  private logDirSeries(r: Registry): void {
    const logs = this.s.logs;
    const fsGauge = (
      name: string,
      help: string,
      pick: (st: { bsize: number; blocks: number; bfree: number; bavail: number }) => number,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ['dir'],
        registers: [r],
        collect() {
          this.reset();
          for (const dir of logs.dirs) {
            if (!logs.isDirOnline(dir)) continue;
            try {
              this.set({ dir }, pick(statfsSync(dir)));
            } catch {
              // A dir that vanished is reported offline by the log manager; no capacity then.
            }
          }
        },
      });
    fsGauge(
      'kafka_log_logdir_total_bytes',
      'Size of the file system holding the log dir',
      (st) => st.blocks * st.bsize,
    );
    fsGauge(
      'kafka_log_logdir_used_bytes',
      'Bytes used on that file system',
      (st) => (st.blocks - st.bfree) * st.bsize,
    );
    fsGauge(
      'kafka_log_logdir_available_bytes',
      'Bytes available to the broker there',
      (st) => st.bavail * st.bsize,
    );
    new Gauge({
      name: 'kafka_log_logdir_online',
      help: '1 while the log dir is online, 0 after it failed',
      labelNames: ['dir'],
      registers: [r],
      collect() {
        for (const dir of logs.dirs) this.set({ dir }, logs.isDirOnline(dir) ? 1 : 0);
      },
    });
  }

  /** Closes what scrapes keep open (connections to other brokers). */
  close(): void {
    this.s.remoteEnds?.close();
  }
}

interface Row {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** For histograms: the _bucket / _sum / _count name. */
  readonly metricName?: string;
}

/**
 * A family whose samples are computed at scrape time straight from broker state, without a
 * prom-client metric's reset()/set() (which hash and validate every label set); the registry
 * formats it like its own (it accepts any object with this shape).
 */
function computed(
  r: Registry,
  name: string,
  help: string,
  type: 'gauge' | 'counter' | 'histogram',
  rows: () => Row[] | Promise<Row[]>,
): void {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    async get() {
      return { name, help, type, aggregator: 'sum', values: await rows() };
    },
    reset() {},
  };
  r.registerMetric(metric as unknown as Metric);
}

/**
 * Kafka's TotalTimeMs per API as a Prometheus histogram in milliseconds, from TrafficMetrics'
 * bucket arrays: prom-client's Histogram would hash labels on every observe on the request path.
 */
function requestTimeHistogram(r: Registry, traffic: TrafficMetrics): void {
  const name = 'kafka_network_requestmetrics_totaltimems';
  const bounds = REQUEST_TIME_BUCKETS_MS.map(String);
  computed(
    r,
    name,
    'Request time in milliseconds from receipt to response ready, by API',
    'histogram',
    () => {
      const values: Row[] = [];
      for (const q of traffic.requests) {
        if (!q) continue;
        let cumulative = 0;
        for (let i = 0; i < q.buckets.length; i++) {
          cumulative += q.buckets[i]!;
          const le = i < bounds.length ? bounds[i]! : '+Inf';
          values.push({ metricName: `${name}_bucket`, labels: { le, request: q.name }, value: cumulative });
        }
        values.push({ metricName: `${name}_sum`, labels: { request: q.name }, value: q.sumMs });
        values.push({ metricName: `${name}_count`, labels: { request: q.name }, value: q.count });
      }
      return values;
    },
  );
}

/**
 * The instance's disk budget on this broker (Kafka has no MBean for it, hence `fjord_`): usage
 * against the budget and its high-water mark, and what holding it did. Budget gauges say 0 while
 * there is no budget (queries dividing by them filter those out).
 */
function diskBudgetSeries(r: Registry, budget: InstanceDiskBudget): void {
  new Gauge({
    name: 'fjord_disk_budget_used_bytes',
    help: 'Bytes of partition data on this broker, what the instance disk budget counts',
    registers: [r],
    collect() {
      this.set(budget.usedBytes());
    },
  });
  const limitGauge = (name: string, help: string, pick: (l: DiskLimits) => number) =>
    new Gauge({
      name,
      help,
      registers: [r],
      collect() {
        const limits = budget.limits();
        this.set(limits ? pick(limits) : 0);
      },
    });
  limitGauge(
    'fjord_disk_budget_bytes',
    'The instance disk budget of this broker (fjord.instance.disk.bytes)',
    (l) => l.budgetBytes,
  );
  limitGauge(
    'fjord_disk_budget_high_water_bytes',
    'Usage past which the oldest segments are deleted',
    (l) => l.highWaterBytes,
  );
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [r],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  counter(
    'fjord_disk_budget_high_water_hits_total',
    'Budget checks that found usage at or above the high-water mark',
    () => budget.highWaterHits,
  );
  counter(
    'fjord_disk_budget_deleted_segments_total',
    'Segments deleted to bring usage below the high-water mark',
    () => budget.deletedSegments,
  );
  counter('fjord_disk_budget_deleted_bytes_total', 'Bytes those segments held', () => budget.deletedBytes);
  counter(
    'fjord_disk_budget_refused_produce_total',
    'Produce partitions refused with KAFKA_STORAGE_ERROR at the budget',
    () => budget.refusedProduce,
  );
}
