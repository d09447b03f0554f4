export * from './args.js';
export * from './auditVerify.js';
