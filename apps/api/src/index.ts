export { type ApiDeps, buildApp } from './app.js';
export { hashSecret, newSecret } from './auth/secrets.js';
export { parseSigningKeys, TokenService } from './auth/tokens.js';
export { type ApiConfig, apiConfigFromEnv } from './config.js';
export { type RunningApi, startApi } from './server.js';
