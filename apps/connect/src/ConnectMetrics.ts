import { createServer, type Server } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** A connect worker's metrics: throughput, lag and errors per connector task (prom-client, as the other apps). */
export class ConnectMetrics {
  readonly registry = new Registry();
  readonly records = new Counter({
    name: 'fjord_connect_records_total',
    help: 'Records delivered to the sink (committed), per connector task',
    labelNames: ['instance', 'connector', 'task'] as const,
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: 'fjord_connect_bytes_total',
    help: 'Bytes delivered to the sink before compression, per connector task',
    labelNames: ['instance', 'connector', 'task'] as const,
    registers: [this.registry],
  });
  readonly skipped = new Counter({
    name: 'fjord_connect_records_skipped_total',
    help: 'Records a sink could not handle and skipped (errors.tolerance all; sent to the dead-letter topic if set)',
    labelNames: ['instance', 'connector', 'task'] as const,
    registers: [this.registry],
  });
  readonly objects = new Counter({
    name: 'fjord_connect_objects_total',
    help: 'Objects written to object storage, per connector task',
    labelNames: ['instance', 'connector', 'task'] as const,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'fjord_connect_task_errors_total',
    help: 'Task failures (each is retried with backoff), per connector task',
    labelNames: ['instance', 'connector', 'task'] as const,
    registers: [this.registry],
  });
  readonly lag = new Gauge({
    name: 'fjord_connect_lag_records',
    help: 'High watermark minus committed offset, per connector partition',
    labelNames: ['instance', 'connector', 'topic', 'partition'] as const,
    registers: [this.registry],
  });
  readonly tasksHeld = new Gauge({
    name: 'fjord_connect_tasks_held',
    help: 'Connector tasks whose lease this worker holds',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'fjord_connect_' });
  }

  /** Serves `/metrics` on host:port (port 0: any free one); resolves to the bound port. */
  async listen(host: string, port: number): Promise<{ port: number; server: Server }> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    return { port: typeof address === 'object' && address ? address.port : port, server };
  }
}
