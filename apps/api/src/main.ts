#!/usr/bin/env node
import { apiConfigFromEnv } from './config.js';
import { startApi } from './server.js';

const api = await startApi(apiConfigFromEnv());
api.app.log.info({ url: api.url }, 'fjord api listening');
let closing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    api.app.log.info({ signal }, 'shutting down gracefully');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    api.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
