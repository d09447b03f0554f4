import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderAlertmanagerConfig, renderPrometheusConfig } from './stackConfig.js';

export interface MonitoringStackOptions {
  /** Configuration, secrets (0600), rules and both stores live here. */
  readonly dir: string;
  readonly host: string;
  readonly prometheusPort: number;
  readonly alertmanagerPort: number;
  readonly apiUrl: string;
  readonly internalToken: string;
  readonly agentSecret: string;
  /** `host:port` of the worker's metrics endpoint. */
  readonly worker?: string;
  readonly scrapeIntervalSeconds: number;
  readonly evaluationIntervalSeconds: number;
  readonly discoveryRefreshSeconds: number;
  readonly alertGroupWaitSeconds: number;
  readonly alertGroupIntervalSeconds: number;
  readonly prometheusBinary?: string;
  readonly alertmanagerBinary?: string;
  /** How long each may take to become ready (a loaded machine is slow, not broken). */
  readonly readyTimeoutMs?: number;
}

/**
 * Debian's Prometheus and Alertmanager, run with configuration the control plane generates:
 * brokers and zone agents discovered from the API, rules from the worker's rule directory,
 * alerts delivered to the API's receiver. Used by `npm run service` and by the tests.
 */
export class MonitoringStack {
  private readonly children: ChildProcess[] = [];
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  readonly rulesDir: string;

  constructor(private readonly o: MonitoringStackOptions) {
    this.prometheusUrl = `http://${o.host}:${o.prometheusPort}`;
    this.alertmanagerUrl = `http://${o.host}:${o.alertmanagerPort}`;
    this.rulesDir = join(o.dir, 'rules');
  }

  /** Writes the configuration and starts both; resolves when both answer `/-/ready`. */
  async start(): Promise<void> {
    const { o } = this;
    for (const d of [o.dir, this.rulesDir, join(o.dir, 'prometheus-data'), join(o.dir, 'alertmanager-data')])
      mkdirSync(d, { recursive: true, mode: 0o700 });
    const internalTokenFile = join(o.dir, 'internal-token');
    const agentSecretFile = join(o.dir, 'agent-secret');
    writeFileSync(internalTokenFile, o.internalToken, { mode: 0o600 });
    writeFileSync(agentSecretFile, o.agentSecret, { mode: 0o600 });
    writeFileSync(
      join(o.dir, 'prometheus.yml'),
      renderPrometheusConfig({
        apiUrl: o.apiUrl,
        internalTokenFile,
        agentSecretFile,
        alertmanager: `${o.host}:${o.alertmanagerPort}`,
        rulesDir: this.rulesDir,
        ...(o.worker ? { worker: o.worker } : {}),
        scrapeIntervalSeconds: o.scrapeIntervalSeconds,
        evaluationIntervalSeconds: o.evaluationIntervalSeconds,
        discoveryRefreshSeconds: o.discoveryRefreshSeconds,
      }),
    );
    writeFileSync(
      join(o.dir, 'alertmanager.yml'),
      renderAlertmanagerConfig({
        apiUrl: o.apiUrl,
        internalTokenFile,
        groupWaitSeconds: o.alertGroupWaitSeconds,
        groupIntervalSeconds: o.alertGroupIntervalSeconds,
      }),
    );
    this.run(o.alertmanagerBinary ?? '/usr/bin/prometheus-alertmanager', 'alertmanager', [
      `--config.file=${join(o.dir, 'alertmanager.yml')}`,
      `--storage.path=${join(o.dir, 'alertmanager-data')}`,
      `--web.listen-address=${o.host}:${o.alertmanagerPort}`,
      // A single Alertmanager: no gossip port.
      '--cluster.listen-address=',
    ]);
    this.run(o.prometheusBinary ?? '/usr/bin/prometheus', 'prometheus', [
      `--config.file=${join(o.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(o.dir, 'prometheus-data')}`,
      `--web.listen-address=${o.host}:${o.prometheusPort}`,
      // The worker reloads rules through /-/reload.
      '--web.enable-lifecycle',
    ]);
    await Promise.all([this.ready(this.alertmanagerUrl), this.ready(this.prometheusUrl)]);
  }

  private run(binary: string, name: string, args: string[]): void {
    const out = openSync(join(this.o.dir, `${name}.log`), 'a');
    const child = spawn(binary, args, { stdio: ['ignore', out, out] });
    closeSync(out);
    child.on('error', () => {});
    this.children.push(child);
  }

  private async ready(url: string): Promise<void> {
    const deadline = Date.now() + (this.o.readyTimeoutMs ?? 60_000);
    for (;;) {
      const exited = this.children.find((c) => c.exitCode !== null || c.signalCode !== null);
      if (exited) throw new Error(`${exited.spawnfile} exited during start-up; see ${this.o.dir}/*.log`);
      try {
        const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${url} was not ready in time; see ${this.o.dir}/*.log`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
  }
}
