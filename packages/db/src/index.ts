export * from './auditLog.js';
export * from './client.js';
export * from './migrate.js';
