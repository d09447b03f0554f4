/** Security protocol per listener name, as in Kafka's listener.security.protocol.map. */
export type ListenerProtocols = Readonly<Record<string, SecurityProtocol>>;

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SASL_PLAINTEXT', 'SSL', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

/** Names of the files a spec may ask for, relative to the broker's directory (its working directory). */
export const BROKER_FILE_NAME = /^tls\/[a-z0-9][a-z0-9.-]{0,100}\.pem$/;

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
  /**
   * Files the broker reads (TLS keys and certificates), by name relative to its directory
   * (`BROKER_FILE_NAME`); written owner-only, and files of that kind no longer named are removed.
   */
  readonly files?: Readonly<Record<string, string>>;
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
  /** What the agent's supervisor makes of it (see BrokerState). */
  readonly state: BrokerState;
  /** Restarts the supervisor made since the agent started. */
  readonly restarts: number;
  /** Why the last restart failed, while it is down. */
  readonly lastError: string | null;
}

/**
 * `running`; `stopped` on purpose (stopBroker); `restarting` now; `backoff` until its next restart;
 * `crash-loop`: it kept dying and is left down for a pause; `down`: not running and not supervised.
 */
export type BrokerState = 'running' | 'stopped' | 'restarting' | 'backoff' | 'crash-loop' | 'down';

export interface ZoneHealth {
  readonly zone: string;
  /** The address this host's brokers listen on and advertise (what their certificates name). */
  readonly brokerHost: string;
  readonly brokers: number;
  readonly diskTotalBytes: number;
  readonly diskFreeBytes: number;
}

/**
 * Where a broker runs: a zone and one of its hosts. With zone agents a host is one agent (one
 * machine); a Kubernetes driver would map it to a node (docs/adr/0011-fleet-driver-boundary.md).
 */
export interface PlacementTarget {
  readonly zone: string;
  readonly host: string;
}

/**
 * How the worker runs brokers on a zone's hosts. Calls are idempotent: ensuring a running broker
 * returns it, stopping a stopped one or removing a removed one succeeds. A broker's identity is its
 * key (instance and node id); its data persists across stop and ensure on the same target.
 */
export interface FleetDriver {
  ensureBroker(target: PlacementTarget, spec: BrokerSpec): Promise<BrokerHandle>;
  stopBroker(target: PlacementTarget, key: string): Promise<void>;
  /** Stops the broker and deletes its data directory. */
  removeBroker(target: PlacementTarget, key: string): Promise<void>;
  listBrokers(target: PlacementTarget): Promise<BrokerHandle[]>;
  getBroker(target: PlacementTarget, key: string): Promise<BrokerHandle | undefined>;
  health(target: PlacementTarget): Promise<ZoneHealth>;
}

export class FleetError extends Error {}
