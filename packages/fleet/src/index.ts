export * from './admin/adminCredential.js';
export * from './admin/InstanceAdmin.js';
export * from './FleetDriver.js';
export * from './process/LocalBrokerProcesses.js';
export * from './process/ports.js';
export * from './process/processes.js';
export * from './ZoneAgentClient.js';
