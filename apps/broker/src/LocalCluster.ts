import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { MAX_REPLICATION_FACTOR } from '@fjord/contracts';

// Works from src/ (tests run the sources) and from dist/ alike: the daemon is always the built one.
const MAIN = join(import.meta.dirname, '../dist/main.js');

export interface LocalClusterOptions {
  readonly brokers: number;
  /** Availability zones (broker.rack = az-1…az-N); brokers are dealt to them in turn. */
  readonly zones: number;
  /** PostgreSQL holding the metadata log (migrated). */
  readonly databaseUrl: string;
  /** Each broker's data lives under `<baseDir>/broker-<id>`. */
  readonly baseDir: string;
  readonly clusterId?: string;
  /** First port; broker i listens on 127.0.0.i:(basePort + i). Free ports are found when absent. */
  readonly basePort?: number;
  /**
   * First metrics port; broker i serves /metrics on 127.0.0.i:(metricsBasePort + i). Defaults to
   * basePort + 100 when basePort is given, else free ports are found.
   */
  readonly metricsBasePort?: number;
  /** Log dirs per broker (JBOD). */
  readonly logDirsPerBroker?: number;
  /** Broker settings for every broker (Kafka names). */
  readonly overrides?: Readonly<Record<string, string>>;
  /** Broker log level (its log goes to `<baseDir>/broker-<id>/broker.log`). */
  readonly logLevel?: string;
  /** Also print broker logs to this process's stderr. */
  readonly echoLogs?: boolean;
  /**
   * An authenticated listener instead of PLAINTEXT: each broker's one listener, `INTERNAL`, is
   * SASL_PLAINTEXT with this SCRAM mechanism for brokers and clients alike, the inter-broker user's
   * credential comes from an `--add-scram-file` every broker is started with, and brokers
   * authenticate to each other as that user. `passwords` gives single brokers another password
   * (one that does not match cannot join).
   */
  readonly sasl?: LocalClusterSasl;
}

export interface LocalClusterSasl {
  readonly mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  readonly user: string;
  readonly password: string;
  readonly passwords?: Readonly<Record<number, string>>;
}

/** Broker settings of an authenticated INTERNAL listener (see LocalClusterOptions.sasl). */
function saslSettings(
  host: string,
  port: number,
  sasl: LocalClusterSasl,
  password: string,
): Record<string, string> {
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${sasl.user}" password="${password}";`;
  return {
    listeners: `INTERNAL://${host}:${port}`,
    'listener.security.protocol.map': 'INTERNAL:SASL_PLAINTEXT',
    'inter.broker.listener.name': 'INTERNAL',
    'sasl.enabled.mechanisms': sasl.mechanism,
    'sasl.mechanism.inter.broker.protocol': sasl.mechanism,
    [`listener.name.internal.${sasl.mechanism.toLowerCase()}.sasl.jaas.config`]: jaas,
  };
}

/** One broker process of a LocalCluster. */
export class LocalBroker {
  private child?: ChildProcess;
  private logFile?: WriteStream;

  constructor(
    readonly id: number,
    readonly zone: string,
    readonly host: string,
    readonly port: number,
    /** Where the broker serves Prometheus metrics (`fjord.metrics.listen`), on `host`. */
    readonly metricsPort: number,
    readonly dataDir: string,
    readonly logDirs: readonly string[],
    private readonly args: readonly string[],
    private readonly options: LocalClusterOptions,
  ) {}

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get metricsUrl(): string {
    return `http://${this.host}:${this.metricsPort}/metrics`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process; resolves once it logged "broker started" (registered and unfenced). */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.running) return;
    mkdirSync(this.dataDir, { recursive: true });
    this.logFile = createWriteStream(join(this.dataDir, 'broker.log'), { flags: 'a' });
    // Node flags for the broker processes (e.g. `--cpu-prof` to profile a cluster in a benchmark).
    const nodeArgs = (process.env.FJORD_BROKER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const child = spawn(process.execPath, [...nodeArgs, MAIN, ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FJORD_LOG_LEVEL: this.options.logLevel ?? 'info' },
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let started = false;
      let tail = '';
      const timer = setTimeout(
        () => reject(new Error(`broker ${this.id} did not start: ${tail.slice(-2000)}`)),
        timeoutMs,
      );
      const onData = (d: Buffer) => {
        this.logFile?.write(d);
        if (this.options.echoLogs) process.stderr.write(d);
        if (started) return;
        tail = (tail + d.toString()).slice(-8000);
        if (tail.includes('"msg":"broker started"')) {
          started = true;
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        this.logFile?.end();
        if (!started) {
          clearTimeout(timer);
          reject(
            new Error(`broker ${this.id} exited (${code ?? signal}) while starting: ${tail.slice(-2000)}`),
          );
        }
      });
    });
  }

  /** SIGKILL: the process dies at once, as in a crash. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGTERM: a controlled shutdown (leadership moves away first). */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }
}

/**
 * A cluster of real broker processes on this machine for tests and demos: one cluster id,
 * the metadata log in PostgreSQL, each broker on its own loopback address and port with its own
 * data dirs, brokers spread over availability zones.
 */
export class LocalCluster {
  private constructor(
    readonly clusterId: string,
    readonly brokers: readonly LocalBroker[],
  ) {}

  static async create(options: LocalClusterOptions): Promise<LocalCluster> {
    const clusterId = options.clusterId ?? randomUUID().replace(/-/g, '').slice(0, 22);
    const brokers: LocalBroker[] = [];
    for (let id = 1; id <= options.brokers; id++) {
      const host = `127.0.0.${id}`;
      const port = options.basePort !== undefined ? options.basePort + id : await freePort(host);
      const metricsBase =
        options.metricsBasePort ?? (options.basePort !== undefined ? options.basePort + 100 : undefined);
      const metricsPort = metricsBase !== undefined ? metricsBase + id : await freePort(host);
      const zone = `az-${((id - 1) % options.zones) + 1}`;
      const dataDir = join(options.baseDir, `broker-${id}`);
      const logDirs = Array.from({ length: options.logDirsPerBroker ?? 1 }, (_, i) =>
        join(dataDir, `data-${i}`),
      );
      const settings: Record<string, string> = {
        'node.id': String(id),
        'cluster.id': clusterId,
        'fjord.metadata.database.url': options.databaseUrl,
        listeners: `PLAINTEXT://${host}:${port}`,
        'broker.rack': zone,
        'log.dirs': logDirs.join(','),
        'default.replication.factor': String(Math.min(2, options.brokers)),
        'offsets.topic.replication.factor': String(Math.min(3, options.brokers)),
        'transaction.state.log.replication.factor': String(Math.min(3, options.brokers)),
        'transaction.state.log.min.isr': String(Math.min(2, options.brokers)),
        'group.initial.rebalance.delay.ms': '0',
        'fjord.metrics.listen': `${host}:${metricsPort}`,
        // The product's replication-factor cap, owned by contracts.
        'fjord.max.replication.factor': String(MAX_REPLICATION_FACTOR),
        ...(options.sasl
          ? saslSettings(host, port, options.sasl, options.sasl.passwords?.[id] ?? options.sasl.password)
          : {}),
        ...options.overrides,
      };
      const args = Object.entries(settings).flatMap(([k, v]) => ['--override', `${k}=${v}`]);
      if (options.sasl) {
        // As the zone agent does: the credential in a file only the owner reads, not on the command line.
        mkdirSync(dataDir, { recursive: true });
        const file = join(dataDir, 'scram-users');
        const password = options.sasl.passwords?.[id] ?? options.sasl.password;
        writeFileSync(file, `${options.sasl.mechanism}=[name=${options.sasl.user},password=${password}]\n`, {
          mode: 0o600,
        });
        args.push('--add-scram-file', file);
      }
      brokers.push(new LocalBroker(id, zone, host, port, metricsPort, dataDir, logDirs, args, options));
    }
    return new LocalCluster(clusterId, brokers);
  }

  /** Creates the cluster and starts every broker (in parallel: they elect a controller among them). */
  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    const cluster = await LocalCluster.create(options);
    await Promise.all(cluster.brokers.map((b) => b.start()));
    return cluster;
  }

  get bootstrapServers(): string {
    return this.brokers.map((b) => b.address).join(',');
  }

  broker(id: number): LocalBroker {
    const b = this.brokers.find((x) => x.id === id);
    if (!b) throw new Error(`no broker ${id}`);
    return b;
  }

  inZone(zone: string): LocalBroker[] {
    return this.brokers.filter((b) => b.zone === zone);
  }

  /** Controlled shutdown of every broker, one at a time (the last one has nobody to hand over to). */
  async stop(): Promise<void> {
    for (const b of this.brokers) await b.stop();
  }

  /** SIGKILL to every broker still running (test clean-up). */
  async kill(): Promise<void> {
    await Promise.all(this.brokers.map((b) => b.kill()));
  }
}

/** A port nothing listens on at `host` right now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
