export * from './admin/adminCredential.js';
export * from './admin/InstanceAdmin.js';
