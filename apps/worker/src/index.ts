export * from './brokerSpec.js';
export * from './OperationRunner.js';
export * from './OperationWorker.js';
