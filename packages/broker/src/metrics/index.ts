import type { Logger } from 'pino';
import { parseHostPort, type ResolvedBrokerConfig } from '../config/BrokerConfig.js';
import type { BrokerAddress } from '../network/BrokerClient.js';
import type { InterBrokerSecurity } from '../security/InterBrokerSecurity.js';
import { BrokerMetrics, type BrokerMetricsSources } from './BrokerMetrics.js';
import { MetricsServer } from './MetricsServer.js';
import { RemoteLogEnds } from './RemoteLogEnds.js';
import { TrafficMetrics } from './TrafficMetrics.js';

export { BrokerMetrics, MetricsServer, TrafficMetrics };

/** The hot-path counters, when `fjord.metrics.listen` is set; undefined (nothing counted) otherwise. */
export function trafficMetricsFor(config: ResolvedBrokerConfig): TrafficMetrics | undefined {
  return config.values.get('fjord.metrics.listen') ? new TrafficMetrics() : undefined;
}

/** Builds the broker's registry over its state and serves it on `fjord.metrics.listen`. */
export async function serveMetrics(
  config: ResolvedBrokerConfig,
  sources: Omit<BrokerMetricsSources, 'partitionSeriesMax' | 'remoteEnds'>,
  brokerAddress: (brokerId: number) => BrokerAddress | undefined,
  log: Logger,
  security?: InterBrokerSecurity,
): Promise<MetricsServer> {
  // Validated with the config; parsed again here so the config module stays free of metrics types.
  const { host, port } = parseHostPort(config.values.get('fjord.metrics.listen') as string)!;
  const metrics = new BrokerMetrics({
    ...sources,
    partitionSeriesMax: Number(config.values.get('fjord.metrics.partition.series.max')),
    remoteEnds: new RemoteLogEnds(config.nodeId, brokerAddress, security),
  });
  sources.replicas.onReplicatedBytes = (topic, bytes) => sources.traffic.replicated(topic, bytes);
  return MetricsServer.listen(host, port, metrics, log);
}
