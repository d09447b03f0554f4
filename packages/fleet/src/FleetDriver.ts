/** Security protocol per listener name, as in Kafka's listener.security.protocol.map. */
export type ListenerProtocols = Readonly<Record<string, 'PLAINTEXT' | 'SASL_PLAINTEXT'>>;

/** What to run: one broker process of one instance. */
export interface BrokerSpec {
  /** Unique on its agent, stable across restarts, e.g. `ins-…-b1`. */
  readonly key: string;
  readonly instanceId: string;
  readonly brokerId: number;
  /** Listener names and their protocols; the agent picks host and ports for each. */
  readonly listeners: ListenerProtocols;
  /** server.properties entries other than listeners and log.dirs (Kafka's own names). */
  readonly properties: Readonly<Record<string, string>>;
  /** `--add-scram` specs. */
  readonly scramUsers: readonly string[];
}

export interface BrokerHandle {
  readonly key: string;
  readonly instanceId: string;
  readonly brokerId: number;
  readonly host: string;
  /** Port per listener name. */
  readonly ports: Readonly<Record<string, number>>;
  /** Where the broker serves Prometheus metrics (`http://host:metricsPort/metrics`); 0 if unknown. */
  readonly metricsPort: number;
  readonly dataDir: string;
  readonly pid: number | null;
  readonly running: boolean;
  /** The broker answers TCP on its first listener. */
  readonly reachable: boolean;
  readonly diskUsedBytes: number;
}

export interface ZoneHealth {
  readonly zone: string;
  readonly brokers: number;
  readonly diskTotalBytes: number;
  readonly diskFreeBytes: number;
}

/**
 * How the worker runs brokers in a zone. Calls are idempotent: ensuring a running broker returns
 * it, stopping a stopped one or removing a removed one succeeds.
 */
export interface FleetDriver {
  ensureBroker(zone: string, spec: BrokerSpec): Promise<BrokerHandle>;
  stopBroker(zone: string, key: string): Promise<void>;
  /** Stops the broker and deletes its data directory. */
  removeBroker(zone: string, key: string): Promise<void>;
  listBrokers(zone: string): Promise<BrokerHandle[]>;
  getBroker(zone: string, key: string): Promise<BrokerHandle | undefined>;
  health(zone: string): Promise<ZoneHealth>;
}

export class FleetError extends Error {}
