import { createServer, type Server } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { OperationObserver } from '../OperationRunner.js';

/** The worker's metrics: operations by kind and outcome, queue depth, notification deliveries. */
export class WorkerMetrics implements OperationObserver {
  readonly registry = new Registry();
  private readonly operations = new Counter({
    name: 'fjord_worker_operations_total',
    help: 'Operations that reached an end, by kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'fjord_worker_operation_duration_seconds',
    help: 'Time from an operation being accepted to its end, by kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [this.registry],
  });
  readonly notifications = new Counter({
    name: 'fjord_worker_notifications_total',
    help: 'Alarm notification attempts, by outcome (delivered, retry, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly ruleReloads = new Counter({
    name: 'fjord_worker_alarm_rule_reloads_total',
    help: 'Alarm rule files written and Prometheus reloads, by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor(queueCounts?: () => Promise<Record<string, number>>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'fjord_worker_' });
    if (queueCounts)
      new Gauge({
        name: 'fjord_worker_queue_jobs',
        help: 'Operation jobs in the queue, by state',
        labelNames: ['state'] as const,
        registers: [this.registry],
        async collect() {
          const counts = await queueCounts();
          for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
        },
      });
  }

  operationFinished(kind: string, outcome: 'succeeded' | 'failed', seconds: number): void {
    this.operations.inc({ kind, outcome });
    this.duration.observe({ kind, outcome }, seconds);
  }

  /** Serves `/metrics` on host:port (port 0: any free one); resolves to the bound port. */
  async listen(host: string, port: number): Promise<{ port: number; server: Server }> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    const addr = server.address();
    return { port: typeof addr === 'object' && addr ? addr.port : port, server };
  }
}
