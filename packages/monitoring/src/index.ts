export * from './alertmanagerWebhook.js';
export * from './alertRules.js';
export * from './MonitoringStack.js';
export * from './PrometheusClient.js';
export * from './promql.js';
export * from './stackConfig.js';
export * from './webhookSignature.js';
export * from './webhookTargets.js';
