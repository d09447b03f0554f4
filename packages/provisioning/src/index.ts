export * from './AutoscaleObservation.js';
export * from './autoscalePlanner.js';
export * from './hostCapacity.js';
export * from './operations.js';
export * from './Refusal.js';
export * from './replicaFootprint.js';
export * from './resizeAdmission.js';
