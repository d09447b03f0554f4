import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** What the server exposes: the Prometheus text of a registry. */
export interface Scrapeable {
  scrape(): Promise<{ contentType: string; body: string }>;
  /** Called when the server closes. */
  close?(): void;
}

/**
 * A minimal HTTP endpoint for Prometheus: GET (or HEAD) /metrics answers the text format, any
 * query string ignored; other paths 404, other methods 405. It shares nothing with the Kafka
 * listeners, so a slow scraper never holds up clients.
 */
export class MetricsServer {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly source: Scrapeable,
  ) {}

  static async listen(host: string, port: number, source: Scrapeable, log: Logger): Promise<MetricsServer> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?', 1)[0];
      if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
        return;
      }
      source.scrape().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        (err: unknown) => {
          log.error({ err }, 'metrics scrape failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('scrape failed\n');
        },
      );
    });
    // A scraper that keeps a connection open must not hold the broker's stop.
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => log.error({ err }, 'metrics server error'));
    const bound = (server.address() as AddressInfo).port;
    log.info({ host, port: bound }, 'metrics listening');
    return new MetricsServer(server, bound, source);
  }

  async close(): Promise<void> {
    this.source.close?.();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
