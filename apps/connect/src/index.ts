export { ConnectMetrics } from './ConnectMetrics.js';
export { ConnectWorker, type ConnectWorkerOptions } from './ConnectWorker.js';
export { LeaseStore } from './LeaseStore.js';
export { jsonLine, objectKey } from './s3/objectLayout.js';
export { PartitionBuffer } from './s3/PartitionBuffer.js';
export { assignedPartitions } from './taskAssignment.js';
